import SearchdSystem
import SearchdWire
import Testing

@testable import SearchdServer

/// The PROXY first stage's decisions, without sockets.
@Suite(.timeLimit(.minutes(10))) struct ProxyStageTests {
  private let balancer = SocketAddress.ipv4(host: [127, 0, 0, 9], port: 40000)

  private func step(_ bytes: [UInt8], allowLocal: Bool = false) -> ProxyStage.Step {
    bytes.withUnsafeBytes { ProxyStage(allowLocal: allowLocal, deadline: 100).step($0, proxy: balancer) }
  }

  @Test func aV1HeaderGivesTheClientAndWhereItsBytesStart() {
    let header = Array("PROXY TCP4 192.0.2.7 198.51.100.1 51000 65432\r\n".utf8)
    #expect(
      step(header + Array("request".utf8))
        == .header(client: .ipv4(host: [192, 0, 2, 7], port: 51000), length: header.count))
  }

  @Test func aV2HeaderAsHAProxySendsIt() {
    let header = ProxyHeader.encodeV2(
      source: .ipv6([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1], port: 443),
      destination: .ipv6(Array(repeating: 0, count: 15) + [1], port: 65432))
    guard case .header(let client?, let length) = step(header + [1, 2, 3]) else {
      Issue.record("no header")
      return
    }
    #expect(length == header.count)
    #expect(
      client == .ipv6(host: [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1], port: 443, scope: 0))
  }

  /// Every prefix of a header is waited for; none is mistaken for a whole one.
  @Test func aHeaderInPiecesIsWaitedFor() {
    let header = Array("PROXY TCP4 192.0.2.7 198.51.100.1 51000 65432\r\n".utf8)
    for cut in 1..<header.count { #expect(step(Array(header.prefix(cut))) == .wait, "cut at \(cut)") }
  }

  @Test func aLocalHeaderIsTheBalancersOwnOnlyWhereAllowed() {
    let unknown = Array("PROXY UNKNOWN\r\n".utf8)
    #expect(step(unknown, allowLocal: true) == .header(client: balancer, length: unknown.count))
    guard case .fail(.local, _) = step(unknown) else {
      Issue.record("LOCAL served where proxy-allow-local is no")
      return
    }
  }

  @Test func otherBytesAreMalformed() {
    for bytes in [Array("GET / HTTP/1.1\r\n".utf8), Array(Request.encodeSearch("x"))] {
      guard case .fail(.malformed, _) = step(bytes) else {
        Issue.record("accepted \(bytes.prefix(8))")
        continue
      }
    }
  }

  @Test func theDeadlineAndAnEarlyCloseFail() {
    let stage = ProxyStage(allowLocal: false, deadline: 100)
    #expect(stage.checkDeadline(now: 99) == nil)
    guard case .fail(.timeout, _)? = stage.checkDeadline(now: 100), case .fail(.truncated, _) = stage.closed() else {
      Issue.record("no failure")
      return
    }
  }
}
