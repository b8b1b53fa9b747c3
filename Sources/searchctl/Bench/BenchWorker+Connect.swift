import SearchdSystem
import SearchdTLS
import SearchdWire

/// A bench connection's life around its batches: what it does once its TCP connection is
/// up, before its first batch, and what happens to its requests when it ends too soon.
extension BenchWorker {
  /// Starts or moves on a TLS handshake; the first batch goes once it is done.
  func handshake(_ c: BenchConnection) {
    if c.tls == nil, let tls = plan.tls {
      guard
        let session = try? TLSSession(
          context: tls.context, descriptor: c.socket.descriptor, accepting: false, serverName: tls.serverName)
      else {
        fail(.tls)
        close(c, reopen: false)
        return
      }
      if let ticket { session.resume(ticket) }
      c.tls = session
    }
    switch c.handshake() {
    case .moved:
      handshakes += 1
      if c.tls?.isResumed == true { resumed += 1 }
      startBatch(c)
    case .blocked(let events): watch(c, events)
    case .failed:
      fail(.tls)
      close(c, reopen: false)
    }
  }

  /// The PROXY header a balancer would send, with this connection's own address as the
  /// client's; the socket has just become writable, so 28 or 52 bytes go at once.
  func sendProxyHeader(_ c: BenchConnection) -> Bool {
    let header = ProxyHeader.encodeV2(
      source: BenchWorker.proxyAddress(c.socket.localAddress), destination: BenchWorker.proxyAddress(plan.target))
    let r = header.withUnsafeBytes { try? c.socket.write($0) }
    guard case .processed(let n)? = r else { return false }
    return n == header.count
  }

  static func proxyAddress(_ a: SocketAddress?) -> ProxyHeader.Address {
    switch a {
    case .ipv6(let host, let port, _)?: return .ipv6(host, port: port)
    case .ipv4(let host, let port)?: return .ipv4(host, port: port)
    default: return .ipv4([127, 0, 0, 1], port: 0)
    }
  }

  /// The connection ended with replies outstanding. Requests whose replies had not begun
  /// (nothing of them read) go once more on a fresh connection, as searchctl does for any
  /// request (a draining server closes keep-alive connections between requests); else,
  /// and on a second loss, they count as failed.
  func lost(_ c: BenchConnection) {
    guard !c.retried, c.awaiting > 0, c.input.isEmpty, !c.decoding, c.requestEnds.count == c.expected.count else {
      fail(.closed)
      close(c, reopen: true)
      return
    }
    let answered = c.expected.count - c.awaiting
    let from = answered == 0 ? 0 : c.requestEnds[answered - 1]
    let retry = BenchConnection.Resend(
      batch: Array(c.batch[from...]), expected: Array(c.expected.suffix(c.awaiting)),
      ends: c.requestEnds.suffix(c.awaiting).map { $0 - from }, sentAt: c.sentAt)
    retries += c.awaiting
    close(c, reopen: false)
    open(cursor: c.cursor, retry: retry)
  }
}
