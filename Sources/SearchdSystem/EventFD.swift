import CShims
import Glibc

/// An eventfd: a counter other threads bump to wake a loop.
public final class EventFD: @unchecked Sendable {
  // Safe to share: the descriptor never changes after init, and eventfd reads and writes are atomic.
  public let descriptor: Int32

  public init() throws(SystemError) {
    descriptor = try syscallValue("eventfd") { eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK)) }
  }

  deinit { closeDescriptor(descriptor) }

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
