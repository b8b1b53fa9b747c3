import Foundation
import Glibc
import SearchdSystem

/// Debian's HAProxy, run in the foreground with a config the test writes; its log (state
/// changes of servers among it) is kept.
final class HAProxy {
  private let process = ChildProcess()
  private let log = LineCollector()
  private let file: String

  init(config: String) throws {
    file = FileManager.default.temporaryDirectory.appendingPathComponent("searchd-haproxy-\(UUID()).cfg").path
    // HAProxy refuses a last line without its newline.
    try (config + "\n").write(toFile: file, atomically: true, encoding: .utf8)
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
    process.arguments = ["-db", "-f", file]
    try log.start(process)
  }

  var logText: String { log.text }

  /// Waits for a line of HAProxy's log; nil if it did not come in time.
  func waitForLog(_ text: String, timeout: Double) -> String? { log.waitFor(text, timeout: timeout) }

  /// Waits until `port` accepts.
  func waitForListener(_ port: UInt16, timeout: Double = 5) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if (try? TestClient(port: port)) != nil { return true }
      usleep(50_000)
    }
    return false
  }

  deinit {
    process.terminate()
    process.waitUntilExit()
    try? FileManager.default.removeItem(atPath: file)
  }
}

/// A loopback port nothing listens on now (bound, read back, closed).
func unusedPort() throws -> UInt16 {
  let listener = try Listener.bind(.ipv4(host: [127, 0, 0, 1], port: 0), backlog: 1)
  defer { listener.close() }
  guard case .ipv4(_, let port)? = listener.address else { throw TestTimeout() }
  return port
}
