import SearchdLoop
import SearchdWire
import Testing

@testable import SearchdServer

/// The admin listener's exchange, driven without sockets.
@Suite(.timeLimit(.minutes(10))) struct AdminExchangeTests {
  private let second: UInt64 = 1_000_000_000

  private func exchange(deadline: UInt64 = 10_000_000_000) -> AdminExchange {
    AdminExchange(deadline: deadline) { path in
      AdminRoutes.Response(status: path == "/healthz" ? 200 : 404, contentType: "text/plain", body: "at \(path)\n")
    }
  }

  private func receive(_ x: inout AdminExchange, _ text: String) {
    x.input.append(Array(text.utf8))
    x.didRead(now: 0)
    x.respondIfReady()
  }

  private func written(_ x: inout AdminExchange) -> String {
    var out: [UInt8] = []
    x.output.forEachPending { out += $0 }
    x.output.discard(x.output.pendingBytes)
    return String(decoding: out, as: UTF8.self)
  }

  @Test func aHeadInPiecesIsAnsweredOnceWholeThenTheExchangeCloses() {
    var x = exchange()
    receive(&x, "GET /heal")
    #expect(x.nextAction() == .wait(.readable) && x.wantsInput)
    receive(&x, "thz HTTP/1.1\r\nHost: x\r\n\r\n")
    #expect(x.nextAction() == .flush)
    let response = written(&x)
    #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
    #expect(response.hasSuffix("\r\n\r\nat /healthz\n"))
    #expect(!x.wantsInput, "nothing more is read once answered")
    #expect(x.nextAction() == .close(.replied))
  }

  @Test func headIsAnsweredWithoutABody() {
    var x = exchange()
    receive(&x, "HEAD /healthz HTTP/1.1\r\n\r\n")
    let response = written(&x)
    #expect(response.contains("Content-Length: 12\r\n") && response.hasSuffix("\r\n\r\n"))
  }

  @Test func aBadRequestIsRefusedWithItsStatus() {
    var x = exchange()
    receive(&x, "BREW /pot HTTP/1.1\r\n\r\n")
    #expect(written(&x).hasPrefix("HTTP/1.1 4"))
    #expect(x.nextAction() == .close(.replied))
  }

  /// A read is never asked for more than a head may hold, plus one byte to see it is too large.
  @Test func readsAreBoundedByTheLargestHead() {
    var x = exchange()
    #expect(x.readChunk == HTTPRequestHead.maxBytes + 1)
    receive(&x, String(repeating: "a", count: 100))
    #expect(x.readChunk == HTTPRequestHead.maxBytes + 1 - 100)
  }

  @Test func aHeadBegunAndNotFinishedByTheDeadlineGets408() {
    var x = exchange(deadline: 10 * second)
    receive(&x, "GET /metr")
    #expect(x.checkDeadlines(now: 10 * second - 1) == nil)
    #expect(x.checkDeadlines(now: 10 * second) == .protocolError(.timeout))
    #expect(written(&x).hasPrefix("HTTP/1.1 408 "))
  }

  @Test func aSilentPeerIsClosedAtTheDeadline() {
    var x = exchange(deadline: 10 * second)
    #expect(x.checkDeadlines(now: 10 * second) == .idle)
    #expect(x.output.isEmpty)
  }

  @Test func thePeersCloseMidHeadIsTruncated() {
    var x = exchange()
    receive(&x, "GET /")
    x.didReachEndOfInput()
    #expect(x.nextAction() == .close(.truncated))
  }
}
