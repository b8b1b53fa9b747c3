import Foundation
import Histogram

/// The figures of a run: throughput, latency percentiles in microseconds, failures by kind.
struct BenchReport {
  let histogram: Histogram<UInt64>
  let completed: Int
  let failures: [BenchFailure: Int]
  let elapsed: Double
  /// TLS handshakes completed, and how many of them resumed a session.
  var tlsHandshakes = 0
  var tlsResumed = 0
  /// Requests sent again on a fresh connection, their first having closed before any
  /// byte of their replies: not failures (they were answered), but counted.
  var retries = 0

  var failed: Int { failures.values.reduce(0, +) }
  var rate: Double { elapsed > 0 ? Double(completed) / elapsed : 0 }

  static let percentiles: [(String, Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)]

  func text(plan: BenchPlan, target: String) -> String {
    var lines = [
      "\(target): \(plan.mode.rawValue), \(plan.connections) connections, pipeline \(plan.pipeline)",
      String(format: "%d replies verified in %.2f s: %.0f requests/s", completed, elapsed, rate),
      "latency (µs): "
        + Self.percentiles.map { "\($0.0) \(histogram.valueAtPercentile($0.1))" }.joined(separator: "  ")
        + "  max \(histogram.max)",
    ]
    lines.append("retried on a fresh connection: \(retries)")
    if tlsHandshakes > 0 { lines.append("TLS handshakes: \(tlsHandshakes), resumed \(tlsResumed)") }
    lines.append(
      failed == 0
        ? "errors: none"
        : "errors: "
          + failures.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
          .joined(separator: ", "))
    return lines.joined(separator: "\n")
  }

  var json: String {
    var latency: [String: Any] = ["max": histogram.max, "mean": histogram.mean]
    for (name, p) in Self.percentiles { latency[name] = histogram.valueAtPercentile(p) }
    let object: [String: Any] = [
      "requests": completed, "seconds": elapsed, "requests_per_second": rate, "latency_us": latency,
      "errors": Dictionary(uniqueKeysWithValues: failures.map { ($0.key.rawValue, $0.value) }),
      "tls_handshakes": tlsHandshakes, "tls_resumed": tlsResumed, "retries": retries,
    ]
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self)
  }
}
