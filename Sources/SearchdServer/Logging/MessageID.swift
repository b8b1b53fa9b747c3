/// journald MESSAGE_IDs for the daemon's life-cycle events, stable across releases,
/// so `journalctl MESSAGE_ID=…` finds them whatever the text says.
public enum MessageID {
  public static let start = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e01"
  public static let ready = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e02"
  public static let reload = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e03"
  public static let reloadFailed = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e04"
  public static let stop = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e05"
  /// A reload read a new TLS certificate, key and client rules.
  public static let tlsReload = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e06"
  /// A reload could not read them: the old ones go on serving.
  public static let tlsReloadFailed = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e07"
  /// The mapped index file was written to or truncated in place while served.
  public static let indexFileModified = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e08"
  /// A reload read settings it cannot apply without a restart.
  public static let reloadNeedsRestart = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e09"
  /// io-backend = auto found io_uring refused or lacking here: the loops run on epoll.
  public static let ioUringUnavailable = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e0a"
}
