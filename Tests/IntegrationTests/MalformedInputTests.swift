import Foundation
import Glibc
import SearchdWire
import TestSupport
import Testing

/// Bad input gets an error reply and a close (framing lost) or an error reply and
/// service goes on (framing intact); never a crash, never harm to another connection.
@Suite(.timeLimit(.minutes(2))) struct MalformedInputTests {
  enum Outcome: Sendable {
    /// Error reply with this code; the connection stays open and serves the next request.
    case replyAndKeep(String)
    /// Error reply with this code, then close.
    case replyAndClose(String)
    /// Close without a reply.
    case close
  }

  struct Case: Sendable, CustomStringConvertible {
    let description: String
    let bytes: [UInt8]
    let outcome: Outcome
    /// Send FIN after the bytes (for truncation cases).
    var halfClose = false
  }

  private static func frame(_ header: String, _ content: [UInt8] = []) -> [UInt8] {
    let h = Array(header.utf8)
    return [UInt8(h.count >> 8), UInt8(h.count & 0xFF)] + h + content
  }

  private static func json(_ content: String, encoding: String = "utf-8", type: String = "text/json") -> [UInt8] {
    Message.encode(contentType: type, contentEncoding: encoding, content: Array(content.utf8))
  }

  private static let head = #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "#

  static let cases: [Case] = [
    Case(description: "zero-length header", bytes: [0, 0], outcome: .replyAndClose("bad-header-length")),
    Case(
      description: "header length 0xFFFF, 2 bytes sent", bytes: [0xFF, 0xFF],
      outcome: .replyAndClose("header-too-large")),
    Case(
      description: "HTTP request", bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
      outcome: .replyAndClose("header-too-large")),
    Case(
      description: "header not UTF-8", bytes: [0, 4, 0xFF, 0xFE, 0x7B, 0x7D], outcome: .replyAndClose("bad-header")),
    Case(description: "header not JSON", bytes: frame("hello"), outcome: .replyAndClose("bad-header")),
    Case(description: "header is an array", bytes: frame("[]"), outcome: .replyAndClose("bad-header")),
    Case(
      description: "header lacks content-length",
      bytes: frame(#"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8"}"#),
      outcome: .replyAndClose("missing-header")),
    Case(
      description: "header lacks byteorder",
      bytes: frame(#"{"content-type": "text/json", "content-encoding": "utf-8", "content-length": 0}"#),
      outcome: .replyAndClose("missing-header")),
    Case(
      description: "duplicate content-length", bytes: frame(head + #""content-length": 2, "content-length": 0}"#),
      outcome: .replyAndClose("bad-header")),
    Case(
      description: "content-length -1", bytes: frame(head + #""content-length": -1}"#),
      outcome: .replyAndClose("bad-content-length")),
    Case(
      description: "content-length 1e3", bytes: frame(head + #""content-length": 1e3}"#),
      outcome: .replyAndClose("bad-content-length")),
    Case(
      description: "content-length 2^64", bytes: frame(head + #""content-length": 99999999999999999999}"#),
      outcome: .replyAndClose("bad-content-length")),
    Case(
      description: "content-length over the limit", bytes: frame(head + #""content-length": 1048577}"#),
      outcome: .replyAndClose("content-too-large")),
    Case(
      description: "30,000 nested brackets", bytes: [0xEA, 0x60] + Array(repeating: UInt8(ascii: "["), count: 60_000),
      outcome: .replyAndClose("header-too-large")),
    Case(description: "content not JSON", bytes: json("not json"), outcome: .replyAndKeep("bad-json")),
    Case(
      description: "content invalid UTF-8",
      bytes: Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: [0x7B, 0xFF, 0x7D]),
      outcome: .replyAndKeep("bad-json")),
    Case(description: "content without action", bytes: json(#"{"value": "x"}"#), outcome: .replyAndKeep("bad-request")),
    Case(description: "empty JSON object", bytes: json("{}"), outcome: .replyAndKeep("bad-request")),
    Case(
      description: "value not a string", bytes: json(#"{"action": "search", "value": 7}"#),
      outcome: .replyAndKeep("bad-request")),
    Case(
      description: "unknown encoding", bytes: json("{}", encoding: "klingon"),
      outcome: .replyAndKeep("unsupported-encoding")),
    Case(
      description: "byteorder not a string",
      bytes: frame(
        #"{"byteorder": 1, "content-type": "text/json", "content-encoding": "utf-8", "content-length": 2}"#,
        Array("{}".utf8)), outcome: .replyAndKeep("bad-header")),
    Case(
      description: "truncated header then FIN", bytes: [0, 200] + Array(repeating: 0x20, count: 20), outcome: .close,
      halfClose: true),
    Case(
      description: "truncated content then FIN", bytes: Array(Request.encodeSearch("morpheus").dropLast(5)),
      outcome: .close, halfClose: true),
  ]

  @Test(arguments: cases)
  func badInputIsAnsweredAndOthersAreUnharmed(_ c: Case) throws {
    let daemon = try Daemon()
    let bystander = try TestClient(port: daemon.appPort)
    try bystander.send(protocolVectors[0].request)
    #expect(try bystander.readMessage() == protocolVectors[0].response)
    let baselineFDs = daemon.openFDCount

    let bad = try TestClient(port: daemon.appPort)
    // A good request first: its reply must arrive complete, before anything about the bad bytes.
    try bad.send(protocolVectors[1].request + c.bytes)
    if c.halfClose { try bad.socket.shutdown(.write) }
    #expect(try bad.readMessage() == protocolVectors[1].response)

    switch c.outcome {
    case .replyAndKeep(let code):
      let reply = try #require(try bad.readMessage(), "no error reply")
      #expect(replyFields(reply).error == code)
      #expect(replyFields(reply).result?.hasPrefix("Error: ") == true)
      try bad.send(protocolVectors[0].request)
      #expect(try bad.readMessage() == protocolVectors[0].response, "the connection goes on serving")
    case .replyAndClose(let code):
      let reply = try #require(try bad.readMessage(), "no error reply")
      #expect(replyFields(reply).error == code)
      #expect(try bad.closes(within: 5))
    case .close:
      #expect(try bad.readMessage() == nil)
    }
    bad.close()

    // The daemon is alive, the bystander still served, and no fd leaked.
    try bystander.send(protocolVectors[2].request)
    #expect(try bystander.readMessage(timeout: 1) == protocolVectors[2].response)
    var fds = daemon.openFDCount
    for _ in 0..<500 where fds != baselineFDs {
      usleep(10_000)
      fds = daemon.openFDCount
    }
    #expect(fds == baselineFDs)
    #expect(daemon.process.isRunning)
  }

  @Test func stalledRequestGetsATimeoutReplyAndClose() throws {
    let daemon = try Daemon(["--request-timeout", "1"])
    let c = try TestClient(port: daemon.appPort)
    try c.send([0, 200] + Array(repeating: 0x20, count: 20))
    let reply = try #require(try c.readMessage(timeout: 5))
    #expect(replyFields(reply).error == "timeout")
    #expect(try c.closes(within: 2))
  }

  @Test func idleConnectionIsClosed() throws {
    let daemon = try Daemon(["--idle-timeout", "1"])
    let c = try TestClient(port: daemon.appPort)
    #expect(try c.closes(within: 5))
  }

  @Test func clientResetMidMessageLeavesNoTrace() throws {
    let daemon = try Daemon()
    let baseline = daemon.openFDCount
    for _ in 0..<20 {
      let c = try TestClient(port: daemon.appPort)
      try c.send(Array(Request.encodeSearch("morpheus").prefix(30)))
      var lin = linger(l_onoff: 1, l_linger: 0)
      setsockopt(c.socket.descriptor, SOL_SOCKET, SO_LINGER, &lin, socklen_t(MemoryLayout<linger>.size))
      c.close()
    }
    var fds = daemon.openFDCount
    for _ in 0..<500 where fds != baseline {
      usleep(10_000)
      fds = daemon.openFDCount
    }
    #expect(fds == baseline)
    let c = try TestClient(port: daemon.appPort)
    try c.send(protocolVectors[0].request)
    #expect(try c.readMessage() == protocolVectors[0].response)
  }

  @Test func tooManyConnectionsAreTurnedAwayWithAReply() throws {
    let daemon = try Daemon(["--max-connections", "4"])
    let kept = try (0..<4).map { _ in try TestClient(port: daemon.appPort) }
    for k in kept {
      try k.send(protocolVectors[0].request)
      #expect(try k.readMessage() == protocolVectors[0].response)
    }
    let extra = try TestClient(port: daemon.appPort)
    let reply = try #require(try extra.readMessage())
    #expect(replyFields(reply).error == "too-many-connections")
    #expect(try extra.closes(within: 2))
    kept[0].close()
    usleep(200_000)
    let again = try TestClient(port: daemon.appPort)
    try again.send(protocolVectors[0].request)
    #expect(try again.readMessage() == protocolVectors[0].response)
  }
}
