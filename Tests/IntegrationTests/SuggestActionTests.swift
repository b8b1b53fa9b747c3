import Foundation
import SearchdWire
import TestSupport
import Testing

@testable import IntegrationSupport

/// The `suggest` action against the real daemon over real sockets.
@Suite(.daemonSuite) struct SuggestActionTests {
  /// The reply's content as text: the bytes are what is compared.
  private func content(_ message: [UInt8]?) throws -> String {
    let m = try #require(message, "no reply")
    let headerLength = Int(m[0]) << 8 | Int(m[1])
    return String(decoding: m[(2 + headerLength)...], as: UTF8.self)
  }

  @Test func theTutorialsKeysAreSuggestedByteForByte() throws {
    let daemon = try Daemon()
    let c = try TestClient(port: daemon.appPort)
    try c.send(Request.encodeSuggest("morphues"))
    let reply = try c.readMessage()
    #expect(
      try content(reply)
        == #"{"result": [{"key": "morpheus", "value": "Follow the white rabbit. 🐰", "typos": 1}], "complete": true}"#)
    #expect(reply == Reply.suggestions([("morpheus", "Follow the white rabbit. \u{1F430}", 1)], complete: true))
    // Below four characters no typo is allowed by default: a prefix only.
    try c.send(Request.encodeSuggest("Mor"))
    #expect(try content(c.readMessage()) == #"{"result": [], "complete": true}"#)
    try c.send(Request.encodeSuggest("Mor", typos: 1))
    #expect(
      try content(c.readMessage())
        == #"{"result": [{"key": "morpheus", "value": "Follow the white rabbit. 🐰", "typos": 1}], "complete": true}"#)
    // Everything starts with the empty text: the shortest first, then byte order.
    try c.send(Request.encodeSuggest("", limit: 2))
    #expect(
      try content(c.readMessage())
        == #"{"result": [{"key": "🐶", "value": "🐾 Playing ball! 🏐", "typos": 0}, "#
        + #"{"key": "ring", "value": "In the caves beneath the Misty Mountains. 💍", "typos": 0}], "complete": true}"#)
  }

  /// Each bad option is an error reply with its own code; the connection goes on serving.
  @Test(arguments: [
    (#"{"action": "suggest", "value": "ring", "limit": 0}"#, "bad-limit"),
    (#"{"action": "suggest", "value": "ring", "limit": 101}"#, "bad-limit"),
    (#"{"action": "suggest", "value": "ring", "limit": "10"}"#, "bad-limit"),
    (#"{"action": "suggest", "value": "ring", "limit": 1.5}"#, "bad-limit"),
    (#"{"action": "suggest", "value": "ring", "limit": null}"#, "bad-limit"),
    (#"{"action": "suggest", "value": "ring", "typos": 3}"#, "bad-typos"),
    (#"{"action": "suggest", "value": "ring", "typos": -1}"#, "bad-typos"),
    (#"{"action": "suggest", "value": "ring", "typos": true}"#, "bad-typos"),
    (#"{"action": "suggest"}"#, "bad-request"),
    (#"{"action": "suggest", "value": 42}"#, "bad-request"),
    (#"{"action": "suggest", "value": "\#(String(repeating: "x", count: 257))"}"#, "bad-request"),
  ])
  func badOptionsAreRefusedWithTheirCode(_ request: String, _ code: String) throws {
    let daemon = try Daemon()
    let c = try TestClient(port: daemon.appPort)
    try c.send(Message.encode(contentType: Message.jsonType, contentEncoding: "utf-8", content: Array(request.utf8)))
    let reply = try #require(try c.readMessage(), "no error reply")
    #expect(replyFields(reply).error == code)
    #expect(replyFields(reply).result?.hasPrefix("Error: ") == true)
    try c.send(protocolVectors[0].request)
    #expect(try c.readMessage() == protocolVectors[0].response, "the connection goes on serving")
  }

  /// A JSON index gets suggestions too; a request whose walk passes `suggest-max-visits`
  /// (text far from every key, two typos, the most results) stops there and says so while
  /// a bystander is served; the stats count suggestions by kind.
  @Test func aJSONIndexIsSuggestedFromAndTheWorstRequestIsCut() throws {
    let path = try Self.randomIndex()
    let daemon = try Daemon(["--index", path])
    let c = try TestClient(port: daemon.appPort)
    try c.send(Request.encodeSuggest("morphesu"))
    #expect(
      try content(c.readMessage())
        == #"{"result": [{"key": "morpheus", "value": "captain", "typos": 1}], "complete": true}"#)
    try c.send(Request.encodeSuggest("zzzzzzzz", limit: 100, typos: 2))
    #expect(try content(c.readMessage()).hasSuffix(#", "complete": true}"#))
    let requests = try #require(daemon.stats()["requests"] as? [String: Any], "requests in the stats")
    #expect(requests["suggest"] as? Int == 2)

    let bounded = try Daemon(["--index", path, "--suggest-max-visits", "100"])
    let worst = try TestClient(port: bounded.appPort)
    try worst.send(Request.encodeSuggest("zzzzzzzz", limit: 100, typos: 2))
    let cut = try content(worst.readMessage())
    #expect(cut.hasSuffix(#"], "complete": false}"#), "\(cut.suffix(80))")
    let bystander = try TestClient(port: bounded.appPort)
    try bystander.send(Request.encodeSearch("morpheus"))
    #expect(replyFields(try bystander.readMessage()!).result == "captain")
  }

  /// 20,000 random keys of ten letters and a number, and `morpheus`, as a JSON index.
  static func randomIndex() throws -> String {
    let folder = TestFolder("searchd-suggest-tests")
    let path = folder.path("index-\(UUID()).json")
    var entries: [String] = []
    var rng = SystemRandomNumberGenerator()
    for i in 0..<20_000 {
      let key = String((0..<8).map { _ in "abcdefghij".randomElement(using: &rng)! }) + "\(i)"
      entries.append("\"\(key)\": \"v\(i)\"")
    }
    entries.append(#""morpheus": "captain""#)
    try Data(("{" + entries.joined(separator: ", ") + "}").utf8).write(to: URL(fileURLWithPath: path))
    return path
  }

  /// One loop, and a client that pipelines 200 costly suggestions (two typos, 100 results,
  /// near many keys: about 20 ms each in a debug build), then a search on another
  /// connection, both sent while the daemon is stopped so both wait when it resumes: the
  /// search is answered while most of the 200 are still to come, because the loop yields
  /// after `requests-per-wakeup` (its yields counted); then every one of the 200 is
  /// answered, each the same whole reply.
  @Test func aFloodOfTheWorstSuggestionsDoesNotStallTheLoop() throws {
    let daemon = try Daemon(["--index", try Self.randomIndex(), "--threads", "1"])
    let bystander = try TestClient(port: daemon.appPort)
    let worst = try TestClient(port: daemon.appPort)
    let flood = 200
    kill(daemon.pid, SIGSTOP)
    try worst.send(Array((0..<flood).map { _ in Request.encodeSuggest("abcdefgh", limit: 100, typos: 2) }.joined()))
    try bystander.send(Request.encodeSearch("morpheus"))
    kill(daemon.pid, SIGCONT)
    #expect(replyFields(try #require(try bystander.readMessage(timeout: 60))).result == "captain")
    // The suggestions answered by the time the search was: those already here.
    var replies: [String] = []
    while let reply = try? worst.readMessage(timeout: 0.001) { replies.append(try content(reply)) }
    #expect(replies.count < flood, "the search waited for all \(flood) suggestions")
    while replies.count < flood { replies.append(try content(worst.readMessage(timeout: 60))) }
    #expect(replies[0].hasSuffix(#"], "complete": true}"#), "\(replies[0].suffix(80))")
    #expect(replies.allSatisfy { $0 == replies[0] })
    #expect(try daemon.stats()["request_yields"] as? Int ?? 0 > 0)
  }
}
