import SearchdIndex
import SearchdSystem
import SearchdWire
import Testing

@testable import SearchdServer

@Suite(.timeLimit(.minutes(10))) struct RequestHandlerTests {
  private let handler = RequestHandler(
    table: .builtIn, limits: .default, counters: RequestCounters(),
    statsReport: { _ in Reply.result("stats") })

  /// `message` read by the daemon's reader and answered.
  private func answer(_ message: [UInt8], _ h: RequestHandler? = nil, trusted: Bool) -> RequestHandler.Answered {
    var reader = RequestReader()
    return message.withUnsafeBytes { raw in
      guard case .request(_, let query) = reader.next(in: raw) else { fatalError("not a request") }
      return (h ?? handler).answer(query, trusted: trusted)
    }
  }

  @Test func statsOnlyForLocalPeers() {
    let request = Request.encodeSearch("", action: "stats")
    let served = answer(request, trusted: true)
    #expect(served.answer.copiedBytes == Reply.result("stats"))
    #expect(served.error == nil)
    let refused = answer(request, trusted: false)
    #expect(String(decoding: refused.answer.copiedBytes, as: UTF8.self).contains("not-permitted"))
    #expect(refused.error?.code == .notPermitted)
  }

  @Test func hitsAreServedFromTheTablesPreEncodedContent() {
    let answered = answer(Request.encodeSearch("ring"), trusted: false)
    guard case .hit = answered.answer else {
      Issue.record("a hit is answered from the table")
      return
    }
    #expect(answered.answer.copiedBytes == Reply.result("In the caves beneath the Misty Mountains. \u{1F48D}"))
    #expect(answered.action == "search")
  }

  /// A search is counted once, in the one place that counts.
  @Test func aSearchIsCountedOnce() {
    let counters = RequestCounters()
    let h = RequestHandler(
      table: .builtIn, limits: .default, counters: counters, statsReport: { _ in [] })
    _ = Array("ring".utf8).withUnsafeBytes { h.answer(.search($0), trusted: false) }
    _ = answer(Request.encodeSearch("needle"), h, trusted: false)
    #expect(counters.requests(.searchHit) == 1)
    #expect(counters.requests(.searchMiss) == 1)
  }

  /// Every error code has a counter of its own, apart from the request kinds' counters.
  @Test func eachErrorCodeIsCountedInItsOwnSlot() {
    let counters = RequestCounters()
    for (n, code) in WireError.Code.allCases.enumerated() {
      for _ in 0...n { counters.count(code) }
    }
    for (n, code) in WireError.Code.allCases.enumerated() { #expect(counters.errors(code) == n + 1, "\(code)") }
    for kind in ServerStats.RequestKind.allCases { #expect(counters.requests(kind) == 0) }
  }

  @Test(arguments: [
    (SocketAddress.ipv4(host: [127, 0, 0, 1], port: 1), true),
    (SocketAddress.ipv4(host: [127, 1, 2, 3], port: 1), true),
    (SocketAddress.ipv4(host: [10, 0, 0, 1], port: 1), false),
    (SocketAddress.ipv6(host: Array(repeating: 0, count: 15) + [1], port: 1, scope: 0), true),
    (SocketAddress.ipv6(host: Array(repeating: 0, count: 10) + [0xFF, 0xFF, 127, 0, 0, 1], port: 1, scope: 0), true),
    (SocketAddress.ipv6(host: [0xFE, 0x80] + Array(repeating: 0, count: 13) + [1], port: 1, scope: 0), false),
    (SocketAddress.unix(path: "/run/searchd.sock"), true),
  ])
  func localPeers(_ address: SocketAddress, _ local: Bool) {
    #expect(PeerTrust.isLocal(address) == local)
  }
}
