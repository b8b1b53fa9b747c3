import Glibc

/// What a non-blocking call did: its result, or nothing because it would block.
public enum IOResult<Value> {
  case processed(Value)
  case wouldBlock
}

extension IOResult: Equatable where Value: Equatable {}

/// The one place errno is read. Retries EINTR, traps on EBADF/EFAULT (those are bugs
/// in searchd, not conditions to handle) and gives back the rest.
@inline(__always)
private func retryingInterrupts<T: FixedWidthInteger>(_ call: String, _ body: () -> T) -> (T, Errno?) {
  while true {
    #if DEBUG
      if let injected = SyscallFaults.current?.take() {
        if injected == .interrupted { continue }
        return (-1, injected)
      }
    #endif
    let result = body()
    if result != -1 { return (result, nil) }
    let err = Errno(rawValue: Glibc.errno)
    switch err {
    case .interrupted: continue
    case .badFileDescriptor, .badAddress: fatalError("\(call) failed with \(err): a bug in searchd")
    default: return (result, err)
    }
  }
}

/// For calls on non-blocking descriptors: EAGAIN is `.wouldBlock`, other failures throw
/// a `SystemError` naming the call.
@inline(__always)
func syscall<T: FixedWidthInteger>(_ call: String, _ body: () -> T) throws(SystemError) -> IOResult<T> {
  let (result, err) = retryingInterrupts(call, body)
  guard let err else { return .processed(result) }
  if err == .wouldBlock { return .wouldBlock }
  throw SystemError(err, call: call)
}

/// For calls that do not report EAGAIN: the value, or a thrown `SystemError`.
@inline(__always)
func syscallValue<T: FixedWidthInteger>(_ call: String, _ body: () -> T) throws(SystemError) -> T {
  let (result, err) = retryingInterrupts(call, body)
  if let err { throw SystemError(err, call: call) }
  return result
}

/// For the libsystemd convention: a negative errno return, never the global.
@inline(__always)
func negativeErrnoCall(_ call: String, _ body: () -> Int32) throws(SystemError) -> Int32 {
  let r = body()
  if r < 0 { throw SystemError(Errno(rawValue: -r), call: call) }
  return r
}

/// close(2), once: the descriptor is released even when close reports EINTR or EIO, so it
/// is never retried. EBADF means a descriptor was closed twice, or one searchd did not own:
/// a bug, trapped in debug builds (in release the descriptor is gone either way).
func closeDescriptor(_ fd: Int32) {
  if Glibc.close(fd) == -1 && Glibc.errno == EBADF {
    assertionFailure("close(\(fd)) failed with EBADF: a descriptor closed twice")
  }
}

#if DEBUG
  /// Debug builds only, as swift-system compiles its syscall mocking: errors to report
  /// from the next calls on this thread before they run, so the paths kernels take rarely
  /// (EINTR above all) are tested. Bound with `SyscallFaults.$current.withValue`.
  public final class SyscallFaults: @unchecked Sendable {
    // @unchecked: bound to one thread's scope by the task-local; never shared.
    private var pending: [Errno]
    /// Errors reported so far.
    public private(set) var injected = 0

    public init(_ errors: [Errno]) { pending = errors.reversed() }

    @TaskLocal public static var current: SyscallFaults?

    fileprivate func take() -> Errno? {
      guard let e = pending.popLast() else { return nil }
      injected += 1
      return e
    }
  }
#endif
