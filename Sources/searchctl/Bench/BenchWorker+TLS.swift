import SearchdTLS

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
}
