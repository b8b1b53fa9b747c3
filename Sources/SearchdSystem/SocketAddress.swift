import CShims
import Glibc

/// A concrete address a socket is bound or connected to.
public enum SocketAddress: Sendable, Hashable, CustomStringConvertible {
  case ipv4(host: [UInt8], port: UInt16)
  case ipv6(host: [UInt8], port: UInt16, scope: UInt32)
  case unix(path: String)

  /// `127.0.0.1:65432`, `[::1]:65432`, `unix:/run/searchd.sock`: the form `--listen` takes.
  public var description: String {
    switch self {
    case .ipv4(let host, let port):
      return host.map(String.init).joined(separator: ".") + ":\(port)"
    case .ipv6(let host, let port, _):
      var addr = in6_addr()
      withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: host) }
      var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
      _ = inet_ntop(AF_INET6, &addr, &buf, socklen_t(buf.count))
      let text = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
      return "[\(text)]:\(port)"
    case .unix(let path):
      return "unix:\(path)"
    }
  }

  /// TCP over IPv4 or IPv6, rather than a unix socket.
  public var isInternet: Bool {
    if case .unix = self { return false }
    return true
  }

  public var family: Int32 {
    switch self {
    case .ipv4: return AF_INET
    case .ipv6: return AF_INET6
    case .unix: return AF_UNIX
    }
  }

  /// Calls `body` with this address as a C `sockaddr`.
  public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> R)
    throws(SystemError) -> R
  {
    var storage = sockaddr_storage()
    let len = fill(&storage)
    return try withUnsafePointer(to: &storage) { p throws(SystemError) in
      try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
        try body(sa, len)
      }
    }
  }

  private func fill(_ storage: inout sockaddr_storage) -> socklen_t {
    withUnsafeMutablePointer(to: &storage) { p in
      switch self {
      case .ipv4(let host, let port):
        return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
          sin.pointee.sin_family = sa_family_t(AF_INET)
          sin.pointee.sin_port = port.bigEndian
          withUnsafeMutableBytes(of: &sin.pointee.sin_addr) { $0.copyBytes(from: host) }
          return socklen_t(MemoryLayout<sockaddr_in>.size)
        }
      case .ipv6(let host, let port, let scope):
        return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
          sin6.pointee.sin6_family = sa_family_t(AF_INET6)
          sin6.pointee.sin6_port = port.bigEndian
          sin6.pointee.sin6_scope_id = scope
          withUnsafeMutableBytes(of: &sin6.pointee.sin6_addr) { $0.copyBytes(from: host) }
          return socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
      case .unix(let path):
        return p.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { sun in
          sun.pointee.sun_family = sa_family_t(AF_UNIX)
          let bytes = Array(path.utf8.prefix(MemoryLayout.size(ofValue: sun.pointee.sun_path) - 1))
          withUnsafeMutableBytes(of: &sun.pointee.sun_path) { $0.copyBytes(from: bytes) }
          return socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        }
      }
    }
  }

  /// Reads back an address the kernel filled in (accept, getsockname, getaddrinfo).
  public init?(_ sa: UnsafePointer<sockaddr>, length: socklen_t) {
    switch Int32(sa.pointee.sa_family) {
    case AF_INET:
      let sin = UnsafeRawPointer(sa).loadUnaligned(as: sockaddr_in.self)
      self = .ipv4(
        host: withUnsafeBytes(of: sin.sin_addr) { Array($0) }, port: UInt16(bigEndian: sin.sin_port))
    case AF_INET6:
      let sin6 = UnsafeRawPointer(sa).loadUnaligned(as: sockaddr_in6.self)
      self = .ipv6(
        host: withUnsafeBytes(of: sin6.sin6_addr) { Array($0) },
        port: UInt16(bigEndian: sin6.sin6_port), scope: sin6.sin6_scope_id)
    case AF_UNIX:
      let pathOffset = MemoryLayout<sa_family_t>.size
      let count = max(0, Int(length) - pathOffset)
      let raw = UnsafeRawBufferPointer(start: UnsafeRawPointer(sa) + pathOffset, count: count)
      let bytes = raw.prefix { $0 != 0 }
      self = .unix(path: String(decoding: bytes, as: UTF8.self))
    default:
      return nil
    }
  }
}
