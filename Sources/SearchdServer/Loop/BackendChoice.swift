import Logging
import SearchdConfig
import SearchdLoop

extension IOBackend {
  /// The backend `choice` names, decided once at start: `auto` takes io_uring where the
  /// kernel allows it and otherwise says why, once; an explicit io_uring the kernel
  /// refuses stops the start.
  static func resolve(_ choice: IOBackendChoice, logger: Logger) throws(ServerError) -> IOBackend {
    switch choice {
    case .epoll: return .epoll
    case .ioUring:
      if let why = ioUringUnavailability { throw .ioUringUnavailable(why) }
      return .ioUring
    case .auto:
      guard let why = ioUringUnavailability else { return .ioUring }
      logger.notice(
        "io_uring is not available, serving on epoll: \(why)",
        metadata: ["message_id": "\(MessageID.ioUringUnavailable)", "searchd_io_backend": "epoll"])
      return .epoll
    }
  }
}
