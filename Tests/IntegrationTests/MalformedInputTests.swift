import Foundation
import Glibc
import SearchdWire
import TestSupport
import Testing

@testable import IntegrationSupport

/// RELIABILITY.md's bad inputs, numbered as there. Bad input gets an error reply and a
/// close (framing lost), an error reply and service goes on (framing intact), or a close;
/// never a crash, never harm to another connection, never a leaked descriptor.
@Suite(.daemonSuite) struct MalformedInputTests {
  enum Outcome: Sendable {
    /// R+K: error reply with this code; the connection stays open and serves the next request.
    case replyAndKeep(String)
    /// R+C: error reply with this code, then close.
    case replyAndClose(String)
    /// C: close without a reply.
    case close
    /// Not an error at all: this reply, and the connection goes on.
    case served([UInt8])
    /// This reply, then an error reply with this code and a close.
    case servedThenReplyAndClose([UInt8], String)
    /// This reply, then a close (the peer half-closed after its request).
    case servedThenClose([UInt8])
  }

  struct Case: Sendable, CustomStringConvertible {
    let description: String
    let bytes: [UInt8]
    let outcome: Outcome
    /// Send FIN after the bytes.
    var halfClose = false
    /// Daemon options beyond the harness's.
    var args: [String] = []
  }

  private static func frame(_ header: String, _ content: [UInt8] = []) -> [UInt8] {
    let h = Array(header.utf8)
    return [UInt8(h.count >> 8), UInt8(h.count & 0xFF)] + h + content
  }

  private static func json(_ content: String, encoding: String = "utf-8", type: String = "text/json") -> [UInt8] {
    Message.encode(contentType: type, contentEncoding: encoding, content: Array(content.utf8))
  }

  private static func header(without key: String) -> String {
    let all = [
      (#""byteorder""#, #""little""#), (#""content-type""#, #""text/json""#),
      (#""content-encoding""#, #""utf-8""#), (#""content-length""#, "2"),
    ]
    return "{" + all.filter { $0.0 != "\"\(key)\"" }.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
  }

  private static let head = #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "#
  private static let morpheus = protocolVectors[0]
  private static func length(_ literal: String) -> [UInt8] { frame(head + #""content-length": "# + literal + "}") }

  static let cases: [Case] =
    [
      Case(description: "#1 zero-length header", bytes: [0, 0], outcome: .replyAndClose("bad-header-length")),
      Case(
        description: "#2 header length 0xFFFF, 2 bytes sent", bytes: [0xFF, 0xFF],
        outcome: .replyAndClose("header-too-large")),
      Case(
        description: "#3 truncated header then FIN", bytes: [0, 200] + Array(repeating: 0x20, count: 20),
        outcome: .close, halfClose: true),
      Case(
        description: "#5 header not UTF-8", bytes: [0, 4, 0xFF, 0xFE, 0x7B, 0x7D],
        outcome: .replyAndClose("bad-header")),
      Case(description: "#6 header not JSON", bytes: frame("hello"), outcome: .replyAndClose("bad-header")),
    ]
    + ["[]", #""s""#, "42", "null"].map {
      Case(description: "#7 header is \($0)", bytes: frame($0), outcome: .replyAndClose("bad-header"))
    }
    + ["byteorder", "content-type", "content-encoding", "content-length"].map {
      Case(
        description: "#8-11 header lacks \($0)", bytes: frame(header(without: $0), Array("{}".utf8)),
        outcome: .replyAndClose("missing-header"))
    }
    + [
      Case(
        description: "#12 duplicate content-length",
        bytes: frame(head + #""content-length": 2, "content-length": 0}"#), outcome: .replyAndClose("bad-header")),
      Case(description: "#13 content-length -1", bytes: length("-1"), outcome: .replyAndClose("bad-content-length")),
    ]
    + ["1.5", "1e3", "10.0", #""10""#, "true"].map {
      Case(description: "#14 content-length \($0)", bytes: length($0), outcome: .replyAndClose("bad-content-length"))
    }
    + ["99999999999999999999", "1e300", "9223372036854775808"].map {
      Case(description: "#15 content-length \($0)", bytes: length($0), outcome: .replyAndClose("bad-content-length"))
    }
    + [
      Case(
        description: "#16 content-length over the limit", bytes: length("1048577"),
        outcome: .replyAndClose("content-too-large")),
      Case(
        description: "#17 30,000 nested brackets in a 60 KB header",
        bytes: [0xEA, 0x60] + Array(repeating: UInt8(ascii: "["), count: 60_000), outcome: .replyAndClose("bad-header"),
        args: ["--max-header-bytes", "65535"]),
      Case(
        description: "#17 the same under the default header limit",
        bytes: [0xEA, 0x60] + Array(repeating: UInt8(ascii: "["), count: 60_000),
        outcome: .replyAndClose("header-too-large")),
      Case(description: "#18 content not JSON", bytes: json("not json"), outcome: .replyAndKeep("bad-json")),
      Case(description: "#19 content is an array", bytes: json("[1]"), outcome: .replyAndKeep("bad-request")),
      Case(
        description: "#19 content without action", bytes: json(#"{"value": "x"}"#),
        outcome: .replyAndKeep("bad-request")),
      Case(description: "#19 empty JSON object", bytes: json("{}"), outcome: .replyAndKeep("bad-request")),
      Case(
        description: "#19 value not a string", bytes: json(#"{"action": "search", "value": 7}"#),
        outcome: .replyAndKeep("bad-request")),
      Case(
        description: "#20 content invalid UTF-8",
        bytes: Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: [0x7B, 0xFF, 0x7D]),
        outcome: .replyAndKeep("bad-json")),
      Case(
        description: "#21 unknown encoding", bytes: json("{}", encoding: "klingon"),
        outcome: .replyAndKeep("unsupported-encoding")),
      Case(
        description: "#21 utf-16 still works", bytes: protocolVectors[8].request,
        outcome: .served(protocolVectors[8].response)),
      Case(
        description: "#22 byteorder middle is served",
        bytes: Message.encode(
          contentType: "text/json", contentEncoding: "utf-8",
          content: Array(#"{"action": "search", "value": "morpheus"}"#.utf8), byteorder: "middle"),
        outcome: .served(morpheus.response)),
      Case(
        description: "#22 byteorder not a string",
        bytes: frame(
          #"{"byteorder": 1, "content-type": "text/json", "content-encoding": "utf-8", "content-length": 2}"#,
          Array("{}".utf8)), outcome: .replyAndKeep("bad-header")),
      Case(
        description: "#23 unknown action", bytes: protocolVectors[5].request,
        outcome: .served(protocolVectors[5].response)),
      Case(
        description: "#24 unknown content type is binary", bytes: protocolVectors[6].request,
        outcome: .served(protocolVectors[6].response)),
      Case(
        description: "#25 truncated content then FIN", bytes: Array(morpheus.request.dropLast(5)), outcome: .close,
        halfClose: true),
      Case(
        description: "#26 content longer than content-length", bytes: morpheus.request + Array("zz".utf8),
        outcome: .servedThenReplyAndClose(morpheus.response, "header-too-large")),
      Case(
        description: "#34 FIN right after a complete request", bytes: morpheus.request,
        outcome: .servedThenClose(morpheus.response), halfClose: true),
      Case(
        description: "#35 HTTP request", bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
        outcome: .replyAndClose("header-too-large")),
    ]

  @Test(arguments: cases)
  func badInputIsAnsweredAndOthersAreUnharmed(_ c: Case) throws {
    let daemon = try Daemon(c.args)
    let bystander = try daemon.servedBystander()
    let baselineFDs = daemon.openFDCount
    let baselineRSS = daemon.rssKiB

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
      #expect(replyFields(reply).result?.hasPrefix("Error: ") == true)
      #expect(try bad.closes(within: 5))
    case .close:
      #expect(try bad.readMessage() == nil)
    case .served(let expected):
      #expect(try bad.readMessage() == expected)
      try bad.send(protocolVectors[0].request)
      #expect(try bad.readMessage() == protocolVectors[0].response, "the connection goes on serving")
    case .servedThenReplyAndClose(let expected, let code):
      #expect(try bad.readMessage() == expected)
      let reply = try #require(try bad.readMessage(), "no error reply")
      #expect(replyFields(reply).error == code)
      #expect(try bad.closes(within: 5))
    case .servedThenClose(let expected):
      #expect(try bad.readMessage() == expected)
      #expect(try bad.closes(within: 5))
    }
    bad.close()
    try daemon.expectUnharmed(bystander: bystander, fds: baselineFDs, rssKiB: baselineRSS)
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
    #expect(daemon.descriptors(backTo: baseline) == baseline)
    let c = try TestClient(port: daemon.appPort)
    try c.send(protocolVectors[0].request)
    #expect(try c.readMessage() == protocolVectors[0].response)
  }

  /// #36: max-connections + 100 at once: the excess hear too-many-connections and are
  /// closed, the first ones keep working, and once they close new ones are accepted.
  @Test func tooManyConnectionsAreTurnedAwayWithAReply() throws {
    let daemon = try Daemon(["--max-connections", "4"])
    let kept = try (0..<4).map { _ in try TestClient(port: daemon.appPort) }
    for k in kept {
      try k.send(protocolVectors[0].request)
      #expect(try k.readMessage() == protocolVectors[0].response)
    }
    let extra = try (0..<100).map { _ in try TestClient(port: daemon.appPort) }
    for e in extra {
      let reply = try #require(try e.readMessage())
      #expect(replyFields(reply).error == "too-many-connections")
      #expect(try e.closes(within: 2))
    }
    for k in kept {
      try k.send(protocolVectors[1].request)
      #expect(try k.readMessage() == protocolVectors[1].response, "the first ones keep working")
    }
    for k in kept { k.close() }
    for e in extra { e.close() }
    var served = 0
    for _ in 0..<100 where served < 4 {
      usleep(50_000)
      let again = try TestClient(port: daemon.appPort)
      try again.send(protocolVectors[0].request)
      if try again.readMessage() == protocolVectors[0].response { served += 1 }
    }
    #expect(served == 4)
  }

  /// #28: peers that close (or reset) before reading their replies: EPIPE and ECONNRESET
  /// on write end those connections only.
  @Test func peersGoneBeforeTheirRepliesAreForgotten() throws {
    let daemon = try Daemon()
    let bystander = try daemon.servedBystander()
    let fds = daemon.openFDCount
    let rss = daemon.rssKiB
    let many = (0..<200).flatMap { _ in protocolVectors[0].request }
    for i in 0..<20 {
      let c = try TestClient(port: daemon.appPort)
      try c.send(many)
      if i % 2 == 0 {
        var lin = linger(l_onoff: 1, l_linger: 0)
        setsockopt(c.socket.descriptor, SOL_SOCKET, SO_LINGER, &lin, socklen_t(MemoryLayout<linger>.size))
      }
      c.close()
    }
    try daemon.expectUnharmed(bystander: bystander, fds: fds, rssKiB: rss)
  }

  /// #29: a request sent one byte every 10 ms, well within the request timeout, is served
  /// byte-identical to the vector.
  @Test func aSlowButSteadyRequestIsServed() throws {
    let daemon = try Daemon()
    let c = try TestClient(port: daemon.appPort)
    for b in protocolVectors[0].request {
      try c.send([b])
      usleep(10_000)
    }
    #expect(try c.readMessage() == protocolVectors[0].response)
  }

  /// #30: Slowloris. A byte every 0.5 s never lets the connection sit idle for the idle
  /// timeout (1.5 s), yet the request timeout (3 s) from its first byte closes it: not
  /// before, and no later than one deadline sweep (0.25 s) and one poll (0.5 s) after.
  @Test func aTrickleIsClosedAtTheRequestTimeout() throws {
    let daemon = try Daemon(["--idle-timeout", "1.5", "--request-timeout", "3"])
    let bystander = try daemon.servedBystander()
    let fds = daemon.openFDCount
    let rss = daemon.rssKiB
    let c = try TestClient(port: daemon.appPort)
    let request = protocolVectors[0].request
    var sent = 0
    var reply: [UInt8]?
    let firstByte = Date()
    while sent < request.count, reply == nil {
      try c.send([request[sent]])
      sent += 1
      if try c.hasInput(within: 0.5) { reply = try c.readMessage(timeout: 1) }
      // The bystander is served meanwhile, which also keeps it clear of the idle timeout.
      try bystander.send(protocolVectors[3].request)
      #expect(try bystander.readMessage(timeout: 1) == protocolVectors[3].response)
    }
    let elapsed = Date().timeIntervalSince(firstByte)
    let timeout = try #require(reply, "closed without the timeout reply after \(sent) bytes")
    #expect(replyFields(timeout).error == "timeout")
    #expect(elapsed >= 3 && elapsed <= 4.5, "the timeout reply came \(elapsed) s after the first byte")
    #expect(try c.closes(within: 2))
    try daemon.expectUnharmed(bystander: bystander, fds: fds, rssKiB: rss)
  }

  /// #33: many frames in one read, the last cut mid-header: every whole frame is answered
  /// at once, the last once the rest of its bytes arrive.
  @Test func aFrameCutMidHeaderIsAnsweredWhenItsRestArrives() throws {
    let daemon = try Daemon()
    let c = try TestClient(port: daemon.appPort)
    let whole = (0..<50).flatMap { _ in protocolVectors[0].request }
    let last = protocolVectors[1].request
    try c.send(whole + last.prefix(20))
    for _ in 0..<50 { #expect(try c.readMessage() == protocolVectors[0].response) }
    #expect(try !c.hasInput(within: 0.2), "nothing for the cut frame yet")
    try c.send(Array(last.dropFirst(20)))
    #expect(try c.readMessage() == protocolVectors[1].response)
  }
}
