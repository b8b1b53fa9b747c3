import SearchdIndex
import SearchdSystem
import SearchdWire

/// `GET /metrics`: the Prometheus text exposition format, version 0.0.4, of every family in
/// `CounterTable`. Every figure is read at scrape time from the counters the loops keep (relaxed atomics, per loop where
/// they are bumped per request), so serving a scrape costs the search path nothing.
struct MetricsReport: Sendable {
  let stats: ServerStats
  let loopStats: [LoopStats]
  let listeners: [ServiceListener]
  let version: String
  let backend: String

  static let contentType = "text/plain; version=0.0.4; charset=utf-8"

  func render(_ table: LookupTable) -> String {
    let figures = CounterFamily.Figures(
      stats: stats, loopStats: loopStats, listeners: listeners, table: table, version: version, backend: backend)
    var out = Exposition()
    for family in CounterTable.families {
      out.family(family.metric, family.kind.rawValue, family.help)
      for sample in family.samples(figures) { out.sample(family.metric + sample.suffix, sample.labels, sample.value) }
    }
    return out.text
  }
}

/// The text format's lines: HELP and TYPE once per family, then its samples.
struct Exposition {
  private(set) var text = ""

  mutating func family(_ name: String, _ type: String, _ help: String) {
    text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
  }

  mutating func sample(_ name: String, _ labels: [String: String], _ value: Int) {
    sample(name, labels, text: String(value))
  }

  mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
    sample(name, labels, text: Self.number(value))
  }

  private mutating func sample(_ name: String, _ labels: [String: String], text value: String) {
    text += name
    if !labels.isEmpty {
      text +=
        "{"
        + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }
        .joined(separator: ",") + "}"
    }
    text += " \(value)\n"
  }

  static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }

  /// Label values escape backslash, double quote and newline.
  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      .replacingOccurrences(of: "\n", with: "\\n")
  }
}
