import SearchdIndex
import SearchdSystem
import SearchdWire
import Testing

@testable import SearchdServer

@Suite struct RequestHandlerTests {
  private let handler = RequestHandler(
    catalog: Catalog(index: .builtIn), limits: .default, counters: RequestCounters(),
    statsReport: { _ in Reply.result("stats") })

  private func frame(_ bytes: [UInt8]) -> Frame {
    var b = InputBuffer()
    b.append(bytes)
    var d = FrameDecoder()
    guard case .frame(let f) = d.decode(&b) else { fatalError("not a frame") }
    return f
  }

  @Test func statsOnlyForLocalPeers() {
    let request = frame(Request.encodeSearch("", action: "stats"))
    var errors: [WireError.Code] = []
    #expect(handler.reply(to: request, trusted: true) { errors.append($0.code) } == Reply.result("stats"))
    let refused = handler.reply(to: request, trusted: false) { errors.append($0.code) }
    #expect(String(decoding: refused, as: UTF8.self).contains("not-permitted"))
    #expect(errors == [.notPermitted])
  }

  @Test func hitsAreServedFromTheCatalogsPreEncodedReplies() {
    let reply = handler.reply(to: frame(Request.encodeSearch("ring")), trusted: false) { _ in }
    #expect(reply == Reply.result("In the caves beneath the Misty Mountains. \u{1F48D}"))
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
    #expect(LoopWorker.isLocal(address) == local)
  }
}
