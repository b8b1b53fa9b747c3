import CShims
import Glibc

/// A listening socket, bound by searchd or handed over by systemd.
/// Shared by every event loop; only `close()` mutates it, and that runs after the loops have stopped.
public final class Listener: @unchecked Sendable, CustomStringConvertible {
  public let socket: Socket
  public let address: SocketAddress?
  /// systemd owns the socket's lifetime when it passed it; searchd never unlinks its path then.
  public let isAdopted: Bool

  init(socket: Socket, isAdopted: Bool) {
    self.socket = socket
    self.isAdopted = isAdopted
    self.address = socket.localAddress
  }

  public var description: String { address.map(String.init(describing:)) ?? "fd \(socket.descriptor)" }

  /// Binds and listens: SO_REUSEADDR so a restart does not wait out TIME_WAIT, IPv6 sockets
  /// v6-only so `[::]` and `0.0.0.0` can both be bound, and a stale unix socket file replaced.
  public static func bind(_ address: SocketAddress, backlog: Int32) throws(SystemError) -> Listener {
    let socket = try Socket(family: address.family)
    do {
      switch address {
      case .ipv4:
        try socket.setOption(level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
      case .ipv6:
        try socket.setOption(level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
        try socket.setOption(level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: 1)
      case .unix(let path):
        removeStaleUnixSocket(at: path)
      }
      try socket.bind(to: address)
      try socket.listen(backlog: backlog)
    } catch {
      socket.close()
      throw error
    }
    return Listener(socket: socket, isAdopted: false)
  }

  /// Takes a listening fd systemd passed. They arrive blocking; the loops need them non-blocking.
  /// Never shut down or unlink: systemd keeps the socket to queue connections across restarts.
  public static func adopt(descriptor: Int32) throws(SystemError) -> Listener {
    let socket = Socket(adopting: descriptor)
    do { try socket.setNonBlocking() } catch {
      socket.close()
      throw error
    }
    return Listener(socket: socket, isAdopted: true)
  }

  /// Closes the socket, and removes the unix socket file searchd created.
  public func close() {
    if !isAdopted, case .unix(let path)? = address { unlink(path) }
    socket.close()
  }

  /// A socket file with nobody accepting on it is left over from a crash; a live one is not ours to take.
  private static func removeStaleUnixSocket(at path: String) {
    var st = stat()
    guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK else { return }
    guard let probe = try? Socket(family: AF_UNIX, nonBlocking: false) else { return }
    defer { probe.close() }
    // Refused or failed: nobody is accepting, so the file is stale.
    if case .some(.processed) = try? probe.connect(to: .unix(path: path)) { return }
    unlink(path)
  }
}
