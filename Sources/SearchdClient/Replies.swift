import Foundation
import SearchdWire

/// What a reply means for each call, the same for every caller (the client's methods,
/// `searchctl`): an error reply is `ClientError.errorReply` with the server's code and words.
public enum Replies {
  /// A search's answer: the value, or nil for the protocol's miss reply.
  public static func search(_ frame: Frame, key: String) throws(ClientError) -> String? {
    let result = try resultLine(try object(frame))
    return result == "No match for \"\(key)\"." ? nil : result
  }

  /// A binary request's answer: the reply's content.
  public static func binary(_ frame: Frame) throws(ClientError) -> [UInt8] {
    guard frame.header.isJSON else { return frame.content }
    _ = try resultLine(try object(frame))
    throw .badReply(target: "the server", "a text/json reply to a binary request")
  }

  /// The daemon's counters. The tutorial's server has no `stats`: an `invalid-action` error.
  public static func stats(_ frame: Frame) throws(ClientError) -> [String: Any] {
    let o = try object(frame)
    let result = try resultLine(o)
    guard let stats = o["stats"] as? [String: Any] else {
      if result.hasPrefix("Error: invalid action") { throw .errorReply(code: "invalid-action", message: result) }
      throw .badReply(target: "the server", "a stats reply without stats")
    }
    return stats
  }

  /// A suggest's answer: the keys the text probably meant, best first.
  public static func suggestions(_ frame: Frame) throws(ClientError) -> Suggestions {
    let o = try object(frame)
    guard let items = o["result"] as? [Any] else {
      // The tutorial's server has no `suggest`: its invalid-action reply, typed.
      let result = try resultLine(o)
      if result.hasPrefix("Error: invalid action") { throw .errorReply(code: "invalid-action", message: result) }
      throw .badReply(target: "the server", "a suggest reply without a list of suggestions")
    }
    var found: [Suggestion] = []
    for item in items {
      guard let entry = item as? [String: Any], let key = entry["key"] as? String,
        let value = entry["value"] as? String, let typos = entry["typos"] as? Int
      else { throw .badReply(target: "the server", "a suggestion without a key, value and typos") }
      found.append(Suggestion(key: key, value: value, typos: typos))
    }
    return Suggestions(items: found, complete: o["complete"] as? Bool ?? true)
  }

  /// A ping is a binary request both searchd and the tutorial's server answer.
  public static let pingRequest = Request.encodeBinary(Array("ping".utf8))

  public static func ping(_ frame: Frame) throws(ClientError) {
    guard try binary(frame) == Array("First 10 bytes of request: ping".utf8) else {
      throw .badReply(target: "the server", "the reply to a ping is not this protocol's")
    }
  }

  /// The content as a JSON object with its `result` line.
  public static func object(_ frame: Frame) throws(ClientError) -> [String: Any] {
    guard frame.header.isJSON else {
      throw .badReply(target: "the server", "expected a text/json reply, got \(frame.header.contentType ?? "none")")
    }
    guard let o = (try? JSONSerialization.jsonObject(with: Data(frame.content))) as? [String: Any] else {
      throw .badReply(target: "the server", "the reply's content is not a JSON object")
    }
    return o
  }

  /// The `result` line, unless the reply is an error reply (then that, typed).
  @discardableResult
  public static func resultLine(_ o: [String: Any]) throws(ClientError) -> String {
    guard let result = o["result"] as? String else {
      throw .badReply(target: "the server", "the reply has no string result")
    }
    if let code = o["error"] { throw .errorReply(code: "\(code)", message: result) }
    return result
  }
}
