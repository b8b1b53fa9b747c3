import Glibc

/// What a non-blocking call did: its result, or nothing because it would block.
public enum IOResult<Value> {
  case processed(Value)
  case wouldBlock
}

extension IOResult: Equatable where Value: Equatable {}

/// The one place errno is read. Retries EINTR, reports EAGAIN as `.wouldBlock`,
/// traps on EBADF/EFAULT (those are bugs in searchd, not conditions to handle)
/// and throws the rest as a `SystemError` naming the call.
@inline(__always)
func syscall<T: FixedWidthInteger>(
  _ call: String, blocking: Bool = false, _ body: () -> T
) throws(SystemError) -> IOResult<T> {
  while true {
    let result = body()
    if result != -1 { return .processed(result) }
    let err = Errno(rawValue: Glibc.errno)
    switch err {
    case .interrupted:
      continue
    case .wouldBlock where !blocking:
      return .wouldBlock
    case .badFileDescriptor, .badAddress:
      fatalError("\(call) failed with \(err): a bug in searchd")
    default:
      throw SystemError(err, call: call)
    }
  }
}

/// For calls that cannot block: the value, or a thrown `SystemError`.
@inline(__always)
func syscallValue<T: FixedWidthInteger>(
  _ call: String, _ body: () -> T
) throws(SystemError) -> T {
  switch try syscall(call, blocking: true, body) {
  case .processed(let v): return v
  case .wouldBlock: fatalError("unreachable: blocking syscall reported EAGAIN")
  }
}

/// For the libsystemd convention: a negative errno return, never the global.
@inline(__always)
func negativeErrnoCall(_ call: String, _ body: () -> Int32) throws(SystemError) -> Int32 {
  let r = body()
  if r < 0 { throw SystemError(Errno(rawValue: -r), call: call) }
  return r
}
