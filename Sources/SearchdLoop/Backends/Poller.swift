import SearchdSystem

/// What a loop waits with, behind one seam (as NIO's `Selector`, Redis's `ae_epoll.c`):
/// epoll, or io_uring's poll operations. The loop keeps the handlers and the timers; a
/// poller only watches descriptors and reports which are ready, under their tokens.
protocol Poller: AnyObject {
  /// `exclusive`: of the loops watching one listener, one is woken per event.
  func add(_ fd: Int32, interest: Interest, exclusive: Bool, token: UInt64) throws(SystemError)
  func modify(_ fd: Int32, interest: Interest, token: UInt64) throws(SystemError)
  /// `closing`: the owner closes `fd` next and holds its only reference.
  func remove(_ fd: Int32, token: UInt64, closing: Bool)
  /// Called once, on the loop's thread, before the first wait.
  func start() throws(SystemError)
  /// Waits up to `timeoutMs` (-1: forever, 0: not at all), then fills `ready`.
  func wait(timeoutMs: Int32, into ready: ReadyList) throws(SystemError)
}

/// The tokens a wait found ready and what each is ready for, allocated once per loop.
final class ReadyList {
  private(set) var tokens: [UInt64]
  private(set) var interests: [Interest]
  private(set) var count = 0
  let capacity: Int

  init(capacity: Int) {
    self.capacity = capacity
    tokens = Array(repeating: 0, count: capacity)
    interests = Array(repeating: [], count: capacity)
  }

  var isFull: Bool { count == capacity }

  func clear() { count = 0 }

  func append(_ token: UInt64, _ interest: Interest) {
    tokens[count] = token
    interests[count] = interest
    count += 1
  }
}

/// Which mechanism a loop waits with.
public enum IOBackend: String, Sendable, CaseIterable {
  case epoll
  case ioUring = "io_uring"

  /// Why io_uring cannot be used here, or nil if it can: decided once, at start, never
  /// mid-flight.
  public static let ioUringUnavailability: String? = URingPoller.unavailability()
}
