import CShims
import Glibc

/// The sole owner of one socket descriptor. It closes it exactly once: on
/// `close()`, or when the last reference goes away.
public final class Socket {
  public private(set) var descriptor: Int32
  public var isOpen: Bool { descriptor >= 0 }

  /// Takes ownership of an fd opened elsewhere (accept4, systemd).
  public init(adopting fd: Int32) {
    precondition(fd >= 0, "adopting a negative fd")
    descriptor = fd
  }

  /// A new stream socket, close-on-exec, non-blocking unless told otherwise.
  public convenience init(family: Int32, nonBlocking: Bool = true) throws(SystemError) {
    var type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
    let fd = try syscallValue("socket") { Glibc.socket(family, type, 0) }
    self.init(adopting: fd)
  }

  /// Set by the daemon at start: a socket dropped while open is a bug in its owner (it
  /// leaked a registration or a peer's connection), trapped in debug builds as NIO's
  /// `BaseSocket` does. Clients keep closing on drop.
  nonisolated(unsafe) public static var mustBeClosedBeforeDrop = false

  deinit {
    guard descriptor >= 0 else { return }
    assert(!Self.mustBeClosedBeforeDrop, "socket \(descriptor) dropped while open: its owner must close it")
    closeDescriptor(descriptor)
  }

  /// Closes the descriptor; a second call does nothing.
  public func close() {
    guard descriptor >= 0 else { return }
    closeDescriptor(descriptor)
    descriptor = -1
  }

  // MARK: set-up

  public func setOption(level: Int32, name: Int32, value: Int32) throws(SystemError) {
    var v = value
    _ = try syscallValue("setsockopt") {
      setsockopt(descriptor, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }
  }

  public func option(level: Int32, name: Int32) throws(SystemError) -> Int32 {
    var v: Int32 = 0
    var len = socklen_t(MemoryLayout<Int32>.size)
    _ = try syscallValue("getsockopt") { getsockopt(descriptor, level, name, &v, &len) }
    return v
  }

  /// Turns Nagle's algorithm off, as servers that write whole replies do (Redis, nginx):
  /// it would only hold a reply back until the previous one is acknowledged.
  public func setNoDelay() throws(SystemError) {
    try setOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
  }

  public func setNonBlocking(_ on: Bool = true) throws(SystemError) {
    let flags = try syscallValue("fcntl") { fcntl(descriptor, F_GETFL) }
    let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
    if wanted != flags { _ = try syscallValue("fcntl") { fcntl(descriptor, F_SETFL, wanted) } }
  }

  public func bind(to address: SocketAddress) throws(SystemError) {
    try address.withSockAddr { (sa, len) throws(SystemError) in
      _ = try syscallValue("bind") { Glibc.bind(descriptor, sa, len) }
    }
  }

  /// Binds a client's source address but leaves the port to connect(2)
  /// (IP_BIND_ADDRESS_NO_PORT), which picks it per destination and may reuse a port in
  /// TIME_WAIT; bind(2) alone takes a port for good and runs out after ~28,000.
  public func bindSource(_ address: SocketAddress) throws(SystemError) {
    // IP_BIND_ADDRESS_NO_PORT is in linux/in.h only, which Glibc does not import.
    let bindAddressNoPort: Int32 = 24
    if address.isInternet { try setOption(level: Int32(IPPROTO_IP), name: bindAddressNoPort, value: 1) }
    try bind(to: address)
  }

  public func listen(backlog: Int32) throws(SystemError) {
    _ = try syscallValue("listen") { Glibc.listen(descriptor, backlog) }
  }

  /// Starts a connect; `.wouldBlock` means it is in progress (EINPROGRESS on a non-blocking socket).
  public func connect(to address: SocketAddress) throws(SystemError) -> IOResult<Void> {
    do {
      try address.withSockAddr { (sa, len) throws(SystemError) in
        _ = try syscallValue("connect") { Glibc.connect(descriptor, sa, len) }
      }
      return .processed(())
    } catch  where error.errno == .inProgress {
      return .wouldBlock
    }
  }

  /// The pending error of a non-blocking connect, once the socket is writable.
  public func pendingError() throws(SystemError) -> Errno? {
    let e = try option(level: SOL_SOCKET, name: SO_ERROR)
    return e == 0 ? nil : Errno(rawValue: e)
  }

  public var localAddress: SocketAddress? { address(getsockname) }

  private func address(
    _ get: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
  ) -> SocketAddress? {
    let (status, address) = Self.receivingAddress { get(descriptor, $0, $1) }
    return status == 0 ? address : nil
  }

  /// Lends `call` room for a socket address (getpeername, accept4…) and reads back what it wrote.
  private static func receivingAddress<T>(
    _ call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> T
  ) -> (T, SocketAddress?) {
    var storage = sockaddr_storage()
    var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
    return withUnsafeMutablePointer(to: &storage) { p in
      p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
        let result = call(sa, &len)
        return (result, SocketAddress(sa, length: len))
      }
    }
  }

  // MARK: data

  /// A new non-blocking, close-on-exec connection, or `.wouldBlock` when none is pending.
  public func accept() throws(SystemError) -> IOResult<Socket> {
    switch try acceptWithPeer() {
    case .processed(let accepted): return .processed(accepted.socket)
    case .wouldBlock: return .wouldBlock
    }
  }

  /// As `accept`, with the peer's address as accept4 reports it (no getpeername call).
  public func acceptWithPeer() throws(SystemError) -> IOResult<(socket: Socket, peer: SocketAddress?)> {
    let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    var failure: SystemError?
    let (outcome, peer) = Self.receivingAddress { sa, len -> IOResult<Int32> in
      do throws(SystemError) {
        return try syscall("accept4") { CShims_accept4(descriptor, sa, len, flags) }
      } catch {
        failure = error
        return .wouldBlock
      }
    }
    if let failure { throw failure }
    switch outcome {
    case .processed(let fd): return .processed((Socket(adopting: fd), peer))
    case .wouldBlock: return .wouldBlock
    }
  }

  /// Reads into `buffer`; `.processed(0)` is end of stream.
  public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
    try syscall("read") { Glibc.read(descriptor, buffer.baseAddress, buffer.count) }
  }

  /// Looks at what is waiting without taking it (MSG_PEEK); `.processed(0)` is end of stream.
  public func peek(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
    try syscall("recv") { Glibc.recv(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_PEEK)) }
  }

  /// Sends without ever raising SIGPIPE.
  public func write(_ buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
    try syscall("send") { Glibc.send(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
  }

  /// Gathers several buffers into one send, without SIGPIPE.
  public func writev(_ iov: UnsafeMutableBufferPointer<iovec>) throws(SystemError) -> IOResult<Int> {
    var msg = msghdr()
    msg.msg_iov = iov.baseAddress
    msg.msg_iovlen = iov.count
    return try syscall("sendmsg") { Glibc.sendmsg(descriptor, &msg, Int32(MSG_NOSIGNAL)) }
  }

  public enum ShutdownHow: Sendable {
    case read, write, both
    var raw: Int32 {
      switch self {
      case .read: return Int32(SHUT_RD)
      case .write: return Int32(SHUT_WR)
      case .both: return Int32(SHUT_RDWR)
      }
    }
  }

  public func shutdown(_ how: ShutdownHow) throws(SystemError) {
    _ = try syscallValue("shutdown") { Glibc.shutdown(descriptor, how.raw) }
  }
}

extension Socket: CustomStringConvertible {
  public var description: String { "Socket(fd: \(descriptor))" }
}
