/// What a client asked for, once its content is decoded.
public enum Request: Equatable, Sendable {
  /// `{"action": "search", "value": Q}`; the query as UTF-8 bytes, so lookups compare
  /// bytes as the reference's dict does (not Swift's canonical string equality).
  case search(query: [UInt8])
  /// Any other action; answered as the reference does, not as an error.
  case unknownAction(String)
  /// Any content type but `text/json`.
  case binary(content: [UInt8])
  /// `{"action": "stats"}`: the daemon's counters, for trusted (local) peers only.
  case stats

  /// Interprets a frame. Errors here keep the framing, so the connection survives them.
  public static func parse(_ frame: Frame, limits: WireLimits = .default) throws(WireError) -> Request {
    let h = frame.header
    guard let contentType = h.contentType, let encodingName = h.contentEncoding, h.byteorder != nil else {
      throw .request(.badHeader, "byteorder, content-type and content-encoding must be strings")
    }
    guard contentType == Message.jsonType else { return .binary(content: frame.content) }
    guard let encoding = TextEncoding(name: encodingName) else {
      throw .request(.unsupportedEncoding, "unsupported content-encoding \"\(encodingName)\"")
    }
    guard let utf8 = encoding.decodeToUTF8(frame.content) else {
      throw .request(.badJSON, "the content is not valid \(encodingName)")
    }
    let value: JSONValue
    do {
      value = try JSONParser.parse(utf8, maxDepth: limits.maxJSONDepth)
    } catch {
      throw RequestRefusal.notJSON.error
    }
    guard case .object = value else { throw RequestRefusal.notAnObject.error }
    guard let actionValue = value["action"] else { throw RequestRefusal.noAction.error }
    guard let action = actionValue.stringValue else { throw RequestRefusal.actionNotAString.error }
    guard action == "search" else { return action == "stats" ? .stats : .unknownAction(action) }
    guard let query = value["value"]?.stringValue else { throw RequestRefusal.searchWithoutValue.error }
    return .search(query: Array(query.utf8))
  }

  /// The request as a tutorial client sends it.
  public static func encodeSearch(_ query: String, action: String = "search") -> [UInt8] {
    var content: [UInt8] = []
    JSONWriter.appendObject(["action": .string(action), "value": .string(query)], to: &content)
    return Message.encode(contentType: Message.jsonType, contentEncoding: "utf-8", content: content)
  }

  public static func encodeBinary(_ content: [UInt8], contentType: String = "binary/custom-client-binary-type")
    -> [UInt8]
  {
    Message.encode(contentType: contentType, contentEncoding: "binary", content: content)
  }
}
