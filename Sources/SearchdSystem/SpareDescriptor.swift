import Glibc

/// One descriptor held in reserve (on /dev/null) so that, when accept fails with
/// EMFILE, the daemon can free it, accept the waiting connection and close it,
/// rather than leave it queued and have the loop report it again at once (a spin).
/// libuv and nginx do the same.
public final class SpareDescriptor {
  private var fd: Int32 = -1

  public init() {
    reacquire()
  }

  deinit { release() }

  public var isHeld: Bool { fd >= 0 }

  /// Frees the reserved slot for the caller's next call.
  public func release() {
    if fd >= 0 {
      closeDescriptor(fd)
      fd = -1
    }
  }

  /// Takes the slot back; quietly stays empty while descriptors are still exhausted.
  public func reacquire() {
    guard fd < 0 else { return }
    do {
      fd = try syscallValue("open") { open("/dev/null", O_RDONLY | O_CLOEXEC) }
    } catch {
      fd = -1  // Still out of descriptors: the next reacquire tries again.
    }
  }
}
