import CShims
import Glibc

/// The process signals searchd handles itself.
public enum ProcessSignal: Int32, Sendable, CaseIterable {
  case hangup = 1  // SIGHUP
  case interrupt = 2  // SIGINT
  case terminate = 15  // SIGTERM
}

/// Signals delivered as readable events on an fd, so the event loop handles
/// them like any other input instead of in an async-signal context.
public final class SignalFD {
  public let descriptor: Int32

  /// Blocks `signals` for this thread (and the threads it spawns later) and opens a signalfd for them.
  /// Call before starting any other thread, so no thread receives them the default way.
  public init(_ signals: [ProcessSignal]) throws(SystemError) {
    var set = sigset_t()
    sigemptyset(&set)
    for s in signals { sigaddset(&set, s.rawValue) }
    let rc = pthread_sigmask(SIG_BLOCK, &set, nil)
    if rc != 0 { throw SystemError(Errno(rawValue: rc), call: "pthread_sigmask") }
    descriptor = try syscallValue("signalfd") { signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC)) }
  }

  deinit { closeDescriptor(descriptor) }

  /// The next pending signal, or nil when none is pending.
  public func next() throws(SystemError) -> ProcessSignal? {
    var info = signalfd_siginfo()
    let size = MemoryLayout<signalfd_siginfo>.size
    switch try syscall("read", { Glibc.read(descriptor, &info, size) }) {
    case .processed(let n) where n == size:
      return ProcessSignal(rawValue: Int32(info.ssi_signo))
    default:
      return nil
    }
  }

  /// A peer that goes away must show up as EPIPE on the write, not kill the process.
  public static func ignoreBrokenPipe() {
    signal(SIGPIPE, SIG_IGN)
  }
}
