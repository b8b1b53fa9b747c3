import Foundation
import Glibc
import SearchdWire
import TestSupport

/// RELIABILITY.md's checks around a bad case, and the daemon's own figures.
extension Daemon {
  /// A connection opened before a case and served once, so the daemon has surely
  /// accepted it before the descriptor baseline is taken.
  func servedBystander() throws -> TestClient {
    let bystander = try TestClient(port: appPort)
    try bystander.send(protocolVectors[0].request)
    try check(try bystander.readMessage() == protocolVectors[0].response, "the bystander is answered")
    return bystander
  }

  /// RELIABILITY.md's check after every case: alive, the bystander answered within a
  /// second, the descriptors back to the baseline, RSS within 16 MiB of it.
  func expectUnharmed(bystander: TestClient, fds baseline: Int, rssKiB: Int) throws {
    try bystander.send(protocolVectors[2].request)
    try check(try bystander.readMessage(timeout: 1) == protocolVectors[2].response, "the bystander is served")
    let fds = descriptors(backTo: baseline)
    try check(fds == baseline, "descriptors back to the baseline \(baseline), not \(fds)")
    try check(process.isRunning, "the daemon is running")
    // ASan's quarantine holds freed memory on purpose, and TSan's shadow grows with the
    // memory it watches; the plain run checks the bound.
    if ProcessInfo.processInfo.environment["SEARCHD_SANITIZER"] == nil {
      let grown = self.rssKiB - rssKiB
      try check(grown < 16 * 1024, "RSS grew by \(grown) KiB")
    }
  }

  /// The daemon's descriptor count once it is `baseline` again, or after `seconds`: a
  /// burst's last closes can trail its client's exit, slowly under a sanitizer.
  func descriptors(backTo baseline: Int, seconds: Int = 30) -> Int {
    var fds = openFDCount
    for _ in 0..<(seconds * 100) where fds != baseline {
      usleep(10_000)
      fds = openFDCount
    }
    return fds
  }

  /// The `stats` object `searchctl status --json` prints.
  func stats() throws -> [String: Any] {
    let status = try searchctl(["status", "--json", "-p", "\(appPort)"])
    let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    return try required((object?["content"] as? [String: Any])?["stats"] as? [String: Any], "stats in \(status.stdout)")
  }
}
