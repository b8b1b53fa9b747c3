import Foundation
import Glibc

/// Debian's Prometheus, scraping the targets the test names every second, asked through
/// its HTTP API; its log is kept for the failure message.
final class Prometheus {
  private let process = ChildProcess()
  private let log = LineCollector()
  private let dir: String
  let port: UInt16

  /// `jobs`: each job's name and its targets' loopback ports.
  init(jobs: [(name: String, ports: [UInt16])]) throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("searchd-prom-\(UUID())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let scrapes = jobs.map { job in
      """
        - job_name: \(job.name)
          static_configs:
            - targets: [\(job.ports.map { "'127.0.0.1:\($0)'" }.joined(separator: ", "))]
      """
    }
    let config = "global:\n  scrape_interval: 1s\nscrape_configs:\n" + scrapes.joined(separator: "\n") + "\n"
    try config.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
    // A port free now: a random one in the ephemeral range could be some test's client port.
    port = try unusedPort()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
    process.arguments = [
      "--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
      "--web.listen-address=127.0.0.1:\(port)",
    ]
    try log.start(process)
  }

  var logText: String { log.text }

  /// An instant query's samples: each one's job, instance and value; empty until
  /// Prometheus answers.
  func query(_ q: String) -> [(job: String, instance: String, value: Double)] {
    let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
    guard let c = try? TestClient(port: port) else { return [] }
    defer { c.close() }
    guard
      (try? c.send(Array("GET /api/v1/query?query=\(encoded) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)))
        != nil,
      let raw = try? c.readAll(timeout: 5)
    else { return [] }
    let r = String(decoding: raw, as: UTF8.self)
    guard let body = r.range(of: "\r\n\r\n").map({ r[$0.upperBound...] }),
      let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
      let results = (object["data"] as? [String: Any])?["result"] as? [[String: Any]]
    else { return [] }
    return results.compactMap { item in
      guard let metric = item["metric"] as? [String: String], let v = item["value"] as? [Any],
        let number = (v.last as? String).flatMap(Double.init)
      else { return nil }
      return (metric["job"] ?? "", metric["instance"] ?? "", number)
    }
  }

  /// Asks until `condition` holds, up to `timeout` seconds (scrapes come every second).
  func waitFor(_ timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if condition() { return true }
      usleep(500_000)
    }
    return condition()
  }

  deinit {
    process.terminate()
    process.waitUntilExit()
    try? FileManager.default.removeItem(atPath: dir)
  }
}
