import CShims
import Glibc

/// The parts of sd-daemon(3) and sd-journal(3) searchd uses. libsystemd reports
/// failures as negative errno returns, and "not under systemd" as 0, which is normal.
public enum Systemd {
  /// The sockets systemd passed (LISTEN_FDS), with their FileDescriptorName=, in the order given.
  /// Empty when not socket-activated. Unsets the variables so children do not inherit them.
  public static func listenFDs() throws(SystemError) -> [(descriptor: Int32, name: String)] {
    var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    let n = try negativeErrnoCall("sd_listen_fds_with_names") { sd_listen_fds_with_names(1, &names) }
    guard n > 0 else { return [] }
    defer {
      if let names {
        for i in 0..<Int(n) { free(names[i]) }
        free(names)
      }
    }
    return (0..<n).map { i in
      let name = names?[Int(i)].map { String(cString: $0) } ?? "unknown"
      return (SD_LISTEN_FDS_START + i, name)
    }
  }

  /// Sends a state line (`READY=1`, `STATUS=...`) to the service manager.
  /// Returns false when there is no manager to tell (NOTIFY_SOCKET unset).
  @discardableResult
  public static func notify(_ state: String) -> Bool {
    sd_notify(0, state) > 0
  }

  /// The watchdog interval systemd expects pings within, if the unit set WatchdogSec=.
  public static func watchdogMicroseconds() -> UInt64? {
    var usec: UInt64 = 0
    return sd_watchdog_enabled(0, &usec) > 0 ? usec : nil
  }

  /// True when stderr is connected to journald (JOURNAL_STREAM names its device and inode),
  /// the documented way to decide to log natively instead of as text.
  public static func stderrIsJournal() -> Bool {
    guard let env = getenv("JOURNAL_STREAM") else { return false }
    let parts = String(cString: env).split(separator: ":")
    guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
    var st = stat()
    guard fstat(STDERR_FILENO, &st) == 0 else { return false }
    return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
  }

  /// Writes one structured entry; fields are `NAME=value` strings (values may hold any bytes).
  @discardableResult
  public static func journalSend(_ fields: [String]) -> Bool {
    // One contiguous buffer, so every iovec points into memory that lives for the whole call.
    var bytes: [UInt8] = []
    var ranges: [Range<Int>] = []
    for f in fields {
      let start = bytes.count
      bytes.append(contentsOf: f.utf8)
      ranges.append(start..<bytes.count)
    }
    return bytes.withUnsafeMutableBytes { raw in
      var iov = ranges.map { r in iovec(iov_base: raw.baseAddress! + r.lowerBound, iov_len: r.count) }
      return sd_journal_sendv(&iov, Int32(iov.count)) == 0
    }
  }
}
