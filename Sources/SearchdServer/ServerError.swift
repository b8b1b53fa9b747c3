import SearchdSystem

/// Why the server could not start, phrased for the person who started it.
public enum ServerError: Error, CustomStringConvertible {
  case resolve(ResolveError)
  case noAddress(Endpoint)
  case bind(SocketAddress, SystemError)
  case systemd(SystemError)
  case loop(SystemError)
  /// A TLS listener (tls-listen, or systemd's app-tls socket) without a certificate.
  case tlsNotConfigured(Listener)
  /// io-backend = io_uring, and the kernel refuses it or lacks what it needs.
  case ioUringUnavailable(String)

  /// The exit status: 78 (EX_CONFIG) for a setting this host cannot honour, else 1.
  public var exitStatus: Int32 {
    if case .ioUringUnavailable = self { return 78 }
    return 1
  }

  public var description: String {
    switch self {
    case .resolve(let e): return e.description
    case .noAddress(let e): return "\(e) resolves to no address"
    case .bind(let a, let e):
      let hint = e.errno == .addressInUse ? " (is another searchd running? `systemctl status searchd`)" : ""
      return "cannot listen on \(a): \(e.call) failed: \(e.errno.message)\(hint)"
    case .systemd(let e): return "cannot take the sockets systemd passed: \(e)"
    case .loop(let e): return "cannot start an event loop: \(e)"
    case .tlsNotConfigured(let l): return "the TLS listener \(l) needs tls-certificate and tls-key"
    case .ioUringUnavailable(let why): return "io-backend = io_uring, but \(why)"
    }
  }
}
