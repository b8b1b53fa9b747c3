import CShims
import Glibc

/// poll(2) on one fd: enough for a blocking client that wants deadlines.
public enum Poll {
  public struct Events: OptionSet, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    public static let readable = Events(rawValue: Int16(POLLIN))
    public static let writable = Events(rawValue: Int16(POLLOUT))
    public static let error = Events(rawValue: Int16(POLLERR))
    public static let hangup = Events(rawValue: Int16(POLLHUP))
  }

  /// Waits for any of `events` on each fd; returns what each got (empty on timeout).
  public static func wait(_ fds: [(Int32, Events)], timeoutMs: Int32) throws(SystemError) -> [Events] {
    var pfds = fds.map { pollfd(fd: $0.0, events: $0.1.rawValue, revents: 0) }
    let n = try syscallValue("poll") { Glibc.poll(&pfds, nfds_t(pfds.count), timeoutMs) }
    if n == 0 { return Array(repeating: [], count: fds.count) }
    return pfds.map { Events(rawValue: $0.revents) }
  }
}
