import SearchdSystem
import SearchdTLS
import SearchdWire

/// What a bench connection does once its TCP connection is up, before its first batch.
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
}
