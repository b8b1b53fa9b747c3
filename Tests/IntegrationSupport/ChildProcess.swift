import CShims
import Foundation
import Glibc

/// A child process, started with posix_spawn; the part of Foundation's `Process` the tests
/// use. Not `Process` itself: its `run()` walks /proc/self/fd copying each entry's whole
/// 256-byte name, which reads past the end of glibc's buffer and now and then crashes the
/// test process while it holds many descriptors (swift-corelibs-foundation #5472, fixed
/// after this toolchain).
final class ChildProcess: @unchecked Sendable {
  struct SpawnError: Error, CustomStringConvertible {
    let description: String
  }

  var executableURL: URL?
  var arguments: [String] = []
  var environment: [String: String]?
  /// A `Pipe`, a `FileHandle` (`FileHandle.nullDevice` too), or nil to inherit the test's.
  var standardInput: Any?
  var standardOutput: Any?
  var standardError: Any?

  private let lock = NSLock()
  private var pid: pid_t = 0
  private var status: Int32?

  init() {}

  var processIdentifier: Int32 { lock.withLock { pid } }

  func run() throws {
    guard let path = executableURL?.path else { throw SpawnError(description: "no executable") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var opened: [Int32] = []
    defer { for fd in opened { close(fd) } }
    let streams = [(0, standardInput, true), (1, standardOutput, false), (2, standardError, false)]
    for (target, stream, readable) in streams {
      let fd: Int32
      switch stream {
      case let pipe as Pipe:
        fd = (readable ? pipe.fileHandleForReading : pipe.fileHandleForWriting).fileDescriptor
      case let handle as FileHandle where handle === FileHandle.nullDevice:
        fd = open("/dev/null", readable ? O_RDONLY : O_WRONLY)
        opened.append(fd)
      case let handle as FileHandle:
        fd = handle.fileDescriptor
      default:
        continue
      }
      posix_spawn_file_actions_adddup2(&actions, fd, Int32(target))
    }
    // Nothing of the test's but the three streams: what Process emulates by listing every fd.
    CShims_spawn_add_close_from(&actions, 3)
    // No signal blocked, SIGINT and SIGPIPE at their defaults: the test runner blocks SIGINT,
    // and a child must stop at it (dumpcap writes out its capture then).
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(
      &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup($0) } + [nil]
    defer { for p in argv + envp { free(p) } }
    var child: pid_t = 0
    let r = posix_spawn(&child, path, &actions, &attributes, argv, envp)
    guard r == 0 else { throw SpawnError(description: "posix_spawn \(path): \(String(cString: strerror(r)))") }
    lock.withLock { pid = child }
    // The child's ends of pipes are the child's alone now: the reader sees EOF when it exits.
    for case let pipe as Pipe in [standardOutput, standardError] { try? pipe.fileHandleForWriting.close() }
    if let pipe = standardInput as? Pipe { try? pipe.fileHandleForReading.close() }
  }

  /// Reaps the child if it has exited (without waiting); true while it runs.
  var isRunning: Bool {
    lock.withLock {
      guard pid > 0, status == nil else { return false }
      var s: Int32 = 0
      let r = waitpid(pid, &s, WNOHANG)
      if r == pid || (r == -1 && errno == ECHILD) { status = s }
      return status == nil
    }
  }

  func waitUntilExit() {
    while isRunning { usleep(5_000) }
  }

  /// The exit status, or the signal that ended it, as Process reports them.
  var terminationStatus: Int32 {
    lock.withLock {
      guard let s = status else { return 0 }
      let signal = s & 0x7f
      return signal == 0 ? (s >> 8) & 0xff : signal
    }
  }

  func terminate() {
    let p = processIdentifier
    if p > 0 { kill(p, SIGTERM) }
  }
}
