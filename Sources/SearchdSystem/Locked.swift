import Glibc

/// A value guarded by a pthread mutex. Not `Synchronization.Mutex`: on Linux its lock
/// lives in the uninstrumented standard library, so ThreadSanitizer cannot see it
/// order accesses and reports races that are not there; pthread's mutex it intercepts.
public final class Locked<Value>: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private var value: Value

  public init(_ value: Value) {
    self.value = value
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body(&value)
  }
}
