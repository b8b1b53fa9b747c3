import CShims
import Glibc

/// The epoll bits searchd uses, as a Swift set. The only file that names EPOLL* constants.
public struct EpollEvents: OptionSet, Sendable, Hashable {
  public let rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  public static let readable = EpollEvents(rawValue: EPOLLIN.rawValue)
  public static let writable = EpollEvents(rawValue: EPOLLOUT.rawValue)
  public static let readHangup = EpollEvents(rawValue: EPOLLRDHUP.rawValue)
  public static let hangup = EpollEvents(rawValue: EPOLLHUP.rawValue)
  public static let error = EpollEvents(rawValue: EPOLLERR.rawValue)
  /// Wake only one of the epoll sets sharing a listener (no thundering herd across loops).
  public static let exclusive = EpollEvents(rawValue: EPOLLEXCLUSIVE.rawValue)
}

/// One epoll instance, owning its descriptor.
public final class Epoll {
  public let descriptor: Int32

  public init() throws(SystemError) {
    descriptor = try syscallValue("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
  }

  deinit { Glibc.close(descriptor) }

  public func add(_ fd: Int32, events: EpollEvents, token: UInt64) throws(SystemError) {
    try control(EPOLL_CTL_ADD, fd, events, token)
  }

  public func modify(_ fd: Int32, events: EpollEvents, token: UInt64) throws(SystemError) {
    try control(EPOLL_CTL_MOD, fd, events, token)
  }

  public func remove(_ fd: Int32) throws(SystemError) {
    try control(EPOLL_CTL_DEL, fd, [], 0)
  }

  private func control(_ op: Int32, _ fd: Int32, _ events: EpollEvents, _ token: UInt64) throws(SystemError) {
    var ev = epoll_event()
    ev.events = events.rawValue
    ev.data.u64 = token
    _ = try syscallValue("epoll_ctl") { epoll_ctl(descriptor, op, fd, &ev) }
  }

  /// Waits up to `timeoutMs` (-1: forever); returns how many entries of `buffer` were filled.
  public func wait(into buffer: EpollEventBuffer, timeoutMs: Int32) throws(SystemError) -> Int {
    let events = buffer.storage
    switch try syscall("epoll_wait", { epoll_wait(descriptor, events.baseAddress, Int32(events.count), timeoutMs) }) {
    case .processed(let n): return Int(n)
    case .wouldBlock: return 0
    }
  }
}

/// Space for the events one epoll_wait returns, allocated once per loop.
public final class EpollEventBuffer {
  fileprivate let storage: UnsafeMutableBufferPointer<epoll_event>

  public init(capacity: Int) {
    storage = .allocate(capacity: capacity)
    storage.initialize(repeating: epoll_event())
  }

  deinit { storage.deallocate() }

  /// The token given at registration and the events that are ready.
  public subscript(i: Int) -> (token: UInt64, events: EpollEvents) {
    (storage[i].data.u64, EpollEvents(rawValue: storage[i].events))
  }
}

/// An eventfd: a counter other threads bump to wake a loop.
public final class EventFD: @unchecked Sendable {
  // Safe to share: the descriptor never changes after init, and eventfd reads and writes are atomic.
  public let descriptor: Int32

  public init() throws(SystemError) {
    descriptor = try syscallValue("eventfd") { eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK)) }
  }

  deinit { Glibc.close(descriptor) }

  public func signal() {
    var one: UInt64 = 1
    // EAGAIN means the counter is saturated, which still wakes the reader.
    _ = try? syscall("eventfd_write") { Glibc.write(descriptor, &one, 8) }
  }

  /// Resets the counter.
  public func drain() {
    var value: UInt64 = 0
    _ = try? syscall("eventfd_read") { Glibc.read(descriptor, &value, 8) }
  }
}
