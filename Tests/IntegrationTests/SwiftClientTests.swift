import Foundation
import Glibc
import SearchdSystem
import SearchdWire
import Testing

@testable import IntegrationSupport
@testable import SearchdClient

/// The Swift client library against a real searchd (TCP, unix, TLS), the tutorial's own
/// server, and peers that are not searchd.
@Suite(.daemonSuite) struct SwiftClientTests {
  private let morpheus = "Follow the white rabbit. \u{1F430}"

  private func client(_ port: UInt16, timeout: Double = 5) -> SearchdClient {
    SearchdClient(.init(endpoint: .host("127.0.0.1", port: port), timeout: timeout))
  }

  @Test func everyCallAgainstSearchd() async throws {
    let daemon = try Daemon()
    let c = client(daemon.appPort)
    #expect(try await c.search("morpheus") == morpheus)
    #expect(try await c.search("needle") == nil)
    #expect(
      try await c.binary(Array("binary\u{1F603}".utf8)) == Array("First 10 bytes of request: binary\u{1F603}".utf8))
    try await c.ping()
    let stats = try await c.stats()
    #expect((stats["requests"] as? [String: Any])?["binary"] as? Int == 2)
  }

  @Test func searchManyAnswersEachInOrderOverOneConnection() async throws {
    let daemon = try Daemon()
    let c = client(daemon.appPort)
    let keys = (0..<100).map { $0 % 3 == 0 ? "morpheus" : "miss \($0)" }
    let answers = try await c.searchMany(keys)
    #expect(answers == keys.map { $0 == "morpheus" ? morpheus : nil })
    let total = ((try daemon.stats()["connections"] as? [String: Any])?["total"] as? Int)
    // One for the batch, one for the stats request that counted it.
    #expect(total == 2)
  }

  @Test func concurrentCallsShareThePool() async throws {
    let daemon = try Daemon()
    let c = SearchdClient(.init(endpoint: .host("127.0.0.1", port: daemon.appPort), maxIdle: 4))
    let answers = try await withThrowingTaskGroup(of: String?.self) { group in
      for _ in 0..<32 { group.addTask { try await c.search("morpheus") } }
      return try await group.reduce(into: [String?]()) { $0.append($1) }
    }
    #expect(answers == Array(repeating: morpheus, count: 32))
    // Idle connections beyond the bound were closed: at most 4 remain open at the daemon.
    c.close()
    let current = (try daemon.stats()["connections"] as? [String: Any])?["current"] as? Int
    #expect(current == 1, "only the stats request's own connection")
  }

  @Test func theTutorialsServerOneRequestPerConnection() async throws {
    let tutorial = try TutorialServer()
    let c = client(UInt16(tutorial.port)!)
    #expect(try await c.search("morpheus") == morpheus)
    #expect(
      try await c.searchMany(["needle", "morpheus", "\u{1F436}"]) == [
        nil, morpheus, "\u{1F43E} Playing ball! \u{1F3D0}",
      ])
    try await c.ping()
    await #expect {
      try await c.stats()
    } throws: { e in
      guard case .errorReply(let code, let message) = e as? ClientError else { return false }
      return code == "invalid-action" && message == "Error: invalid action \"stats\"."
    }
  }

  @Test func suggestForgivesATypoAndTypesItsRefusals() async throws {
    let daemon = try Daemon()
    let c = client(daemon.appPort)
    #expect(
      try await c.suggest("morphues")
        == Suggestions(items: [Suggestion(key: "morpheus", value: morpheus, typos: 1)], complete: true))
    #expect(try await c.suggest("Mor").items == [])
    #expect(try await c.suggest("", limit: 2).items.map(\.key) == ["\u{1F436}", "ring"])
    await #expect {
      try await c.suggest("ring", typos: 3)
    } throws: { e in
      guard case .errorReply(let code, let message) = e as? ClientError else { return false }
      return code == "bad-typos" && message.hasPrefix("Error: ")
    }
    // The tutorial's server does not know the action: its invalid-action reply, typed.
    let tutorial = try TutorialServer()
    await #expect {
      try await client(UInt16(tutorial.port)!).suggest("morph")
    } throws: { e in
      guard case .errorReply(let code, _) = e as? ClientError else { return false }
      return code == "invalid-action"
    }
  }

  @Test func anErrorReplyIsTypedWithTheServersWords() async throws {
    let daemon = try Daemon()
    let c = client(daemon.appPort)
    let frame = try await c.request(
      Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array("{".utf8)))
    #expect {
      try Replies.search(frame, key: "{")
    } throws: { e in
      guard case .errorReply(let code, let message) = e as? ClientError else { return false }
      return code == "bad-json" && message.hasPrefix("Error: ")
    }
  }

  @Test func unixSocket() async throws {
    let folder = TestFolder("swift-client-unix")
    defer { folder.remove() }
    let path = folder.path("s.sock")
    let daemon = try Daemon(["--listen", "unix:\(path)"])
    _ = daemon
    let c = SearchdClient(.init(endpoint: .unix(path: path)))
    #expect(try await c.search("morpheus") == morpheus)
  }

  @Test func tlsWithACAFileResumesOnReconnect() async throws {
    let certs = try Certificates()
    let daemon = try Daemon(certs.serverFlags)
    defer { _ = daemon.stop() }
    let tls = try ClientTLS(caFile: certs.path("ca"), serverName: "localhost")
    let c = SearchdClient(.init(endpoint: .host("127.0.0.1", port: daemon.tlsPort), tls: tls, maxIdle: 0))
    #expect(try await c.search("morpheus") == morpheus)
    #expect(try await c.search("morpheus") == morpheus)
    let handshakes = (try daemon.stats()["tls"] as? [String: Any])
    #expect(handshakes?["handshakes"] as? Int == 2)
    #expect(handshakes?["resumed"] as? Int == 1)

    let wrongName = SearchdClient(
      .init(
        endpoint: .host("127.0.0.1", port: daemon.tlsPort),
        tls: try ClientTLS(caFile: certs.path("ca"), serverName: "elsewhere.example")))
    await #expect {
      try await wrongName.search("morpheus")
    } throws: { e in
      guard case .tls = e as? ClientError else { return false }
      return "\(e)".contains("--servername")
    }
  }

  @Test func aRefusedConnection() async throws {
    let listener = try TestListener()
    let port = listener.port
    listener.listener.close()
    await #expect {
      try await client(port).search("x")
    } throws: { e in
      guard case .connect(_, let errno) = e as? ClientError else { return false }
      return errno == .connectionRefused
    }
  }

  @Test func aSilentServerIsATimeout() async throws {
    let silent = try ScriptedPeer { c, _ in
      ScriptedPeer.readRequest(c)
      sleep(5)
    }
    await #expect {
      try await client(silent.port, timeout: 0.5).search("x")
    } throws: { e in
      guard case .timedOut = e as? ClientError else { return false }
      return true
    }
  }

  /// Sixteen calls at once to a server that never answers, on the client's threads for
  /// blocking calls: each ends at its 0.5 s deadline, none waiting for another's thread.
  /// Timed on those threads (an async test's own resumption waits for Swift's cooperative
  /// threads, which the other suites' synchronous tests hold for seconds at a time).
  @Test func silentServerCallsTimeOutTogetherWithinTheTimeout() async throws {
    let silent = try ScriptedPeer { c, _ in
      ScriptedPeer.readRequest(c)
      sleep(5)
    }
    let outcomes = Outcomes()
    let started = MonotonicClock.nanoseconds()
    for _ in 0..<16 {
      BlockingThreads.shared.run {
        var timedOut = false
        do throws(ClientError) {
          let c = try Connection.connect(to: .host("127.0.0.1", port: silent.port), tls: nil, timeout: 0.5)
          defer { c.close() }
          try c.send(Request.encodeSearch("x"))
          _ = try c.receiveFrame()
        } catch {
          if case .timedOut = error { timedOut = true }
        }
        outcomes.add(timedOut: timedOut, at: MonotonicClock.nanoseconds())
      }
    }
    for _ in 0..<3000 where outcomes.all.count < 16 { try await Task.sleep(for: .milliseconds(10)) }
    let all = outcomes.all
    #expect(all.count == 16 && all.allSatisfy(\.timedOut), "every call timed out: \(all)")
    let last = all.map(\.at).max() ?? .max
    #expect(last - started < 2_500_000_000, "all within the 0.5 s timeout, with 2 s to spare: \(all)")
  }

  final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [(timedOut: Bool, at: UInt64)] = []
    var all: [(timedOut: Bool, at: UInt64)] { lock.withLock { list } }
    func add(timedOut: Bool, at: UInt64) { lock.withLock { list.append((timedOut, at)) } }
  }

  /// A reply with this header, whatever it says.
  private static func raw(_ header: String, _ content: String) -> [UInt8] {
    let h = Array(header.utf8)
    return [UInt8(h.count >> 8), UInt8(h.count & 0xff)] + h + Array(content.utf8)
  }

  private static let notSearchd: [(String, [UInt8], String)] = [
    ("an HTTP server", Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8), "bad"),
    ("an empty header", [0, 0], "bad"),
    ("a header that is not JSON", [0, 5] + Array("hello".utf8), "bad"),
    ("a header of the wrong type", [0, 2] + Array("[]".utf8), "bad"),
    ("a header without its keys", raw(#"{"content-length": 1}"#, "x"), "bad"),
    (
      "a length as a string",
      raw(
        #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": "2"}"#,
        "{}"), "bad"
    ),
    ("a 64 KiB header of spaces", [0xff, 0xff] + Array(repeating: 0x20, count: 65535), "bad"),
    (
      "content that is not JSON",
      Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array("not json".utf8)), "bad"
    ),
    (
      "a reply cut short",
      Array(
        Message.encode(
          contentType: "text/json", contentEncoding: "utf-8", content: Array(#"{"result": "Follow"}"#.utf8)
        )
        .dropLast(3)), "truncated"
    ),
    (
      "a reply of 1 GiB",
      raw(
        #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 1073741824}"#,
        ""), "bad"
    ),
  ]

  @Test(arguments: 0..<notSearchd.count) func aPeerThatIsNotSearchdGetsATypedError(_ i: Int) async throws {
    let (what, reply, expected) = Self.notSearchd[i]
    let peer = try ScriptedPeer { c, _ in
      ScriptedPeer.readRequest(c)
      ScriptedPeer.write(c, reply)
      shutdown(c, Int32(SHUT_WR))
      sleep(1)
    }
    await #expect("\(what)") {
      try await client(peer.port, timeout: 2).search("morpheus")
    } throws: { e in
      switch e as? ClientError {
      case .badReply: return expected == "bad"
      case .truncatedReply: return expected == "truncated"
      default: return false
      }
    }
  }

  @Test func aConnectionClosedBeforeAnyReplyIsRetriedOnce() async throws {
    let reply = Message.encode(
      contentType: "text/json", contentEncoding: "utf-8", content: Array(#"{"result": "again"}"#.utf8))
    let flaky = try ScriptedPeer { c, n in
      ScriptedPeer.readRequest(c)
      if n > 1 { ScriptedPeer.write(c, reply) }
    }
    #expect(try await client(flaky.port).search("morpheus") == "again")
    #expect(flaky.connections == 2)

    let rude = try ScriptedPeer { c, _ in ScriptedPeer.readRequest(c) }
    await #expect {
      try await client(rude.port).search("morpheus")
    } throws: { e in
      guard case .closedBeforeReply = e as? ClientError else { return false }
      return true
    }
    #expect(rude.connections == 2)
  }
}
