import Foundation
import SearchdIndex
import SearchdSystem
import SearchdVersion
import SearchdWire

/// The `stats` reply: `{"result": "<summary>", "stats": {...}}`. Not on the hot path,
/// so Foundation's serializer is fine here.
struct StatsReport: Sendable {
  let stats: ServerStats
  let loopStats: [LoopStats]
  let listeners: [ServiceListener]

  func render(_ table: LookupTable) -> [UInt8] {
    let uptime = Double(MonotonicClock.nanoseconds() - stats.startedAt) / 1e9
    let current = stats.connectionsCurrent.load(ordering: .relaxed)
    var requests: [String: Int] = [:]
    for k in ServerStats.RequestKind.allCases { requests[k.rawValue] = stats.requests(k) }
    var errors: [String: Int] = [:]
    for c in WireError.Code.allCases { errors[c.rawValue] = stats.errors(c) }
    let object: [String: Any] = [
      "result": "up \(Int(uptime)) s, \(current) connections, \(stats.requestsServed) requests, "
        + "\(table.count) index entries",
      "stats": [
        "version": SearchdVersion.current,
        "uptime_seconds": uptime,
        "connections": [
          "current": current,
          "total": stats.connectionsTotal.load(ordering: .relaxed),
          "rejected": stats.connectionsRejected.load(ordering: .relaxed),
          "idle_kicks": stats.idleKicks.load(ordering: .relaxed),
          "timeouts": stats.timeouts.load(ordering: .relaxed),
          "send_timeouts": stats.sendTimeouts.load(ordering: .relaxed),
        ],
        "requests": requests,
        "errors": errors,
        "echo_bytes": stats.echoBytes.load(ordering: .relaxed),
        "emfile_events": stats.emfileEvents.load(ordering: .relaxed),
        "output_paused": stats.outputPaused.load(ordering: .relaxed),
        "request_yields": stats.requestYields.load(ordering: .relaxed),
        "proxy_failures": Dictionary(
          uniqueKeysWithValues: ProxyFailure.allCases.map {
            ($0.rawValue, stats.proxyFailures[$0.index].load(ordering: .relaxed))
          }),
        "tls": [
          "handshakes": stats.tlsHandshakes.load(ordering: .relaxed),
          "resumed": stats.tlsResumed.load(ordering: .relaxed),
          "failures": Dictionary(
            uniqueKeysWithValues: TLSFailure.allCases.map {
              ($0.rawValue, stats.tlsFailures[$0.index].load(ordering: .relaxed))
            }),
        ] as [String: Any],
        "index": [
          "entries": table.count,
          "source": table.source,
          "format": table.format.rawValue,
          "bytes": table.byteCount,
          "load_seconds": Double(table.buildNanoseconds) / 1e9,
          "file_modified": stats.indexFileModified.load(ordering: .relaxed),
          "pages_zeroed": MappedFile.pagesZeroed,
        ] as [String: Any],
        "reloads": Dictionary(
          uniqueKeysWithValues: ReloadOutcome.allCases.map {
            ($0.rawValue, stats.reloads[$0.index].load(ordering: .relaxed))
          }),
        "loops": loopStats.enumerated().map { n, l in
          [
            "loop": n, "connections": l.connections.load(ordering: .relaxed),
            "accepted": l.accepted.load(ordering: .relaxed),
          ]
        },
        "listeners": listeners.map(\.description),
      ] as [String: Any],
    ]
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return Message.encode(contentType: Message.jsonType, contentEncoding: "utf-8", content: Array(data))
  }
}
