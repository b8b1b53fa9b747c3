import Glibc

/// A failed system call: which call, and the errno it left.
public struct SystemError: Error, Equatable, CustomStringConvertible, Sendable {
  public let errno: Errno
  public let call: String

  public init(_ errno: Errno, call: String) {
    self.errno = errno
    self.call = call
  }

  public var description: String { "\(call): \(errno)" }
}

/// An errno value with a readable name, so callers match `.connectionRefused`, not `111`.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: Int32
  public init(rawValue: Int32) { self.rawValue = rawValue }

  public static let interrupted = Errno(rawValue: EINTR)
  public static let wouldBlock = Errno(rawValue: EAGAIN)
  public static let badFileDescriptor = Errno(rawValue: EBADF)
  public static let badAddress = Errno(rawValue: EFAULT)
  public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
  public static let connectionReset = Errno(rawValue: ECONNRESET)
  public static let connectionAborted = Errno(rawValue: ECONNABORTED)
  public static let brokenPipe = Errno(rawValue: EPIPE)
  public static let addressInUse = Errno(rawValue: EADDRINUSE)
  public static let addressNotAvailable = Errno(rawValue: EADDRNOTAVAIL)
  public static let inProgress = Errno(rawValue: EINPROGRESS)
  public static let timedOut = Errno(rawValue: ETIMEDOUT)
  public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
  public static let tooManyOpenFilesInSystem = Errno(rawValue: ENFILE)
  public static let permissionDenied = Errno(rawValue: EACCES)
  public static let noSuchFile = Errno(rawValue: ENOENT)
  public static let notConnected = Errno(rawValue: ENOTCONN)
  public static let invalidArgument = Errno(rawValue: EINVAL)
  public static let protocolError = Errno(rawValue: EPROTO)

  /// The C library's text for this errno, lower-cased to read well inside a sentence.
  public var message: String {
    guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
    let s = String(cString: text)
    return s.prefix(1).lowercased() + s.dropFirst()
  }

  public var description: String { "\(message) (errno \(rawValue))" }
}
