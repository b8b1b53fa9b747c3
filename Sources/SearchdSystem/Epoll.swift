import CShims
import Glibc

/// The epoll bits, as a Swift set. The only file that names EPOLL* constants. Package-wide,
/// not public: the event loop translates them into its own `Interest`, so no handler
/// names an epoll bit (searchctl's load generator drives an epoll set of its own).
package struct EpollEvents: OptionSet, Sendable, Hashable {
  package let rawValue: UInt32
  package init(rawValue: UInt32) { self.rawValue = rawValue }

  package static let readable = EpollEvents(rawValue: EPOLLIN.rawValue)
  package static let writable = EpollEvents(rawValue: EPOLLOUT.rawValue)
  package static let readHangup = EpollEvents(rawValue: EPOLLRDHUP.rawValue)
  package static let hangup = EpollEvents(rawValue: EPOLLHUP.rawValue)
  package static let error = EpollEvents(rawValue: EPOLLERR.rawValue)
  /// Wake only one of the epoll sets sharing a listener (no thundering herd across loops).
  package static let exclusive = EpollEvents(rawValue: EPOLLEXCLUSIVE.rawValue)
}

/// One epoll instance, owning its descriptor.
package final class Epoll {
  package let descriptor: Int32

  package init() throws(SystemError) {
    descriptor = try syscallValue("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
  }

  deinit { closeDescriptor(descriptor) }

  package func add(_ fd: Int32, events: EpollEvents, token: UInt64) throws(SystemError) {
    try control(EPOLL_CTL_ADD, fd, events, token)
  }

  package func modify(_ fd: Int32, events: EpollEvents, token: UInt64) throws(SystemError) {
    try control(EPOLL_CTL_MOD, fd, events, token)
  }

  package func remove(_ fd: Int32) throws(SystemError) {
    try control(EPOLL_CTL_DEL, fd, [], 0)
  }

  private func control(_ op: Int32, _ fd: Int32, _ events: EpollEvents, _ token: UInt64) throws(SystemError) {
    var ev = epoll_event()
    ev.events = events.rawValue
    ev.data.u64 = token
    _ = try syscallValue("epoll_ctl") { epoll_ctl(descriptor, op, fd, &ev) }
  }

  /// Waits up to `timeoutMs` (-1: forever); returns how many entries of `buffer` were filled.
  package func wait(into buffer: EpollEventBuffer, timeoutMs: Int32) throws(SystemError) -> Int {
    let events = buffer.storage
    switch try syscall("epoll_wait", { epoll_wait(descriptor, events.baseAddress, Int32(events.count), timeoutMs) }) {
    case .processed(let n): return Int(n)
    case .wouldBlock: return 0
    }
  }
}

extension Epoll {
  /// Waits up to `timeoutNs` (epoll_pwait2): a paced client wakes when a request is due,
  /// not at the next whole millisecond.
  package func wait(into buffer: EpollEventBuffer, timeoutNs: UInt64) throws(SystemError) -> Int {
    let events = buffer.storage
    var timeout = timespec(tv_sec: Int(timeoutNs / 1_000_000_000), tv_nsec: Int(timeoutNs % 1_000_000_000))
    let call = { epoll_pwait2(self.descriptor, events.baseAddress, Int32(events.count), &timeout, nil) }
    switch try syscall("epoll_pwait2", call) {
    case .processed(let n): return Int(n)
    case .wouldBlock: return 0
    }
  }
}

/// Space for the events one epoll_wait returns, allocated once per loop.
package final class EpollEventBuffer {
  fileprivate let storage: UnsafeMutableBufferPointer<epoll_event>

  package init(capacity: Int) {
    storage = .allocate(capacity: capacity)
    storage.initialize(repeating: epoll_event())
  }

  deinit { storage.deallocate() }

  /// The token given at registration and the events that are ready.
  package subscript(i: Int) -> (token: UInt64, events: EpollEvents) {
    (storage[i].data.u64, EpollEvents(rawValue: storage[i].events))
  }
}
