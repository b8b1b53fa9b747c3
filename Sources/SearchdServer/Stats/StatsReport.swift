import Foundation
import SearchdIndex
import SearchdSystem
import SearchdVersion
import SearchdWire

/// The `stats` reply: `{"result": "<summary>", "stats": {...}}`, every figure of
/// `CounterTable` where it says, and the facts that are not counters (the index's source
/// and format, the listeners). Not on the hot path, so Foundation's serializer is fine here.
struct StatsReport: Sendable {
  let stats: ServerStats
  let loopStats: [LoopStats]
  let listeners: [ServiceListener]
  let backend: String

  func render(_ table: LookupTable) -> [UInt8] {
    let figures = CounterFamily.Figures(
      stats: stats, loopStats: loopStats, listeners: listeners, table: table, version: SearchdVersion.current,
      backend: backend)
    var object: [String: Any] = [
      "index": ["source": table.source, "format": table.format.rawValue],
      "listeners": listeners.map(\.description),
    ]
    for family in CounterTable.families {
      guard let (path, value) = family.stats else { continue }
      Self.insert(value(figures), at: path[...], into: &object)
    }
    let uptime = Double(MonotonicClock.nanoseconds() - stats.startedAt) / 1e9
    let reply: [String: Any] = [
      "result": "up \(Int(uptime)) s, \(stats.connectionsCurrent.load(ordering: .relaxed)) connections, "
        + "\(stats.requestsServed) requests, \(table.count) index entries",
      "stats": object,
    ]
    let data = (try? JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys])) ?? Data("{}".utf8)
    return Message.encode(contentType: Message.jsonType, contentEncoding: "utf-8", content: Array(data))
  }

  /// Puts `value` at `path`, merging objects that meet there.
  private static func insert(_ value: Any, at path: ArraySlice<String>, into object: inout [String: Any]) {
    guard let key = path.first else { return }
    if path.count == 1 {
      if let new = value as? [String: Any], let old = object[key] as? [String: Any] {
        object[key] = old.merging(new) { _, n in n }
      } else {
        object[key] = value
      }
      return
    }
    var inner = object[key] as? [String: Any] ?? [:]
    insert(value, at: path.dropFirst(), into: &inner)
    object[key] = inner
  }
}
