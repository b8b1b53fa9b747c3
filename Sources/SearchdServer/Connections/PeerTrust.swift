import SearchdSystem

/// Who may use the admin actions (`stats`): peers on this machine, loopback or a unix socket.
enum PeerTrust {
  static func isLocal(_ address: SocketAddress?) -> Bool {
    switch address {
    case .ipv4(let host, _)?: return host.first == 127
    case .ipv6(let host, _, _)?:
      let mapped = host.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
      return host == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] || (mapped && host[12] == 127)
    case .unix?: return true
    case nil: return false
    }
  }
}
