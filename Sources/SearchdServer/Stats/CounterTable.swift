import SearchdIndex
import SearchdSystem
import SearchdWire

/// Every figure the daemon keeps, defined once: its Prometheus family (name, type, help,
/// samples) and where the `stats` reply holds it. `/metrics` (`MetricsReport`) and the
/// `stats` reply (`StatsReport`, and so `searchctl status`) are both renderings of
/// `CounterTable.families`; a counter added here appears in all three.
struct CounterFamily: Sendable {
  enum Kind: String, Sendable { case counter, gauge, histogram }

  /// One sample: a name suffix (`_bucket`, `_sum`), its labels and its value.
  struct Sample {
    var suffix = ""
    let labels: [String: String]
    let value: Double
  }

  /// The figures at one moment, as every family reads them.
  struct Figures {
    let stats: ServerStats
    let loopStats: [LoopStats]
    let listeners: [ServiceListener]
    let table: LookupTable
    let version: String
    /// What the loops wait with (`io-backend`, as decided at start).
    let backend: String
  }

  let metric: String
  let kind: Kind
  let help: String
  let samples: @Sendable (Figures) -> [Sample]
  /// Where the stats reply holds it (a path of keys), and its value there; nil: /metrics only.
  let stats: (path: [String], value: @Sendable (Figures) -> Any)?

  init(
    _ metric: String, _ kind: Kind, _ help: String, stats path: [String]? = nil,
    statsValue: (@Sendable (Figures) -> Any)? = nil, samples: @escaping @Sendable (Figures) -> [Sample]
  ) {
    self.metric = metric
    self.kind = kind
    self.help = help
    self.samples = samples
    // By default the stats reply shows the family's one value, or its samples keyed by
    // their one label's value.
    let value: @Sendable (Figures) -> Any =
      statsValue ?? { f in
        let s = samples(f)
        if s.count == 1 && s[0].labels.isEmpty { return Self.number(s[0].value) }
        var out: [String: Any] = [:]
        for sample in s { out[sample.labels.values.first ?? ""] = Self.number(sample.value) }
        return out
      }
    stats = path.map { ($0, value) }
  }

  /// Whole values as integers in JSON, as the stats reply always wrote them.
  static func number(_ v: Double) -> Any { v == v.rounded() && abs(v) < 1e15 ? Int(v) as Any : v as Any }
}

extension [CounterFamily.Sample] {
  /// One unlabelled sample.
  static func one(_ value: Double) -> [CounterFamily.Sample] { [CounterFamily.Sample(labels: [:], value: value)] }
  static func one(_ value: Int) -> [CounterFamily.Sample] { one(Double(value)) }

  /// Samples labelled `label` by each case of `cases`.
  static func each<C: Sequence>(_ cases: C, _ label: String, _ value: (C.Element) -> (String, Int))
    -> [CounterFamily.Sample]
  {
    cases.map { c in
      let (name, n) = value(c)
      return CounterFamily.Sample(labels: [label: name], value: Double(n))
    }
  }

}

enum CounterTable {
  static let families: [CounterFamily] = [
    CounterFamily(
      "searchd_build_info", .gauge, "searchd's version, as a label.", stats: ["version"],
      statsValue: { $0.version }
    ) { f in [.init(labels: ["version": f.version], value: 1)] },
    CounterFamily(
      "searchd_io_backend_info", .gauge, "What the event loops wait with (epoll or io_uring), as a label.",
      stats: ["io_backend"], statsValue: { $0.backend }
    ) { f in [.init(labels: ["backend": f.backend], value: 1)] },
    CounterFamily(
      "searchd_ready", .gauge, "1 while serving; 0 before the listeners are served and while draining.",
      stats: ["ready"], statsValue: { $0.stats.ready.load(ordering: .relaxed) }
    ) { .one($0.stats.ready.load(ordering: .relaxed) ? 1 : 0) },
    CounterFamily("searchd_uptime_seconds", .gauge, "Seconds since start.", stats: ["uptime_seconds"]) {
      .one(Double(MonotonicClock.nanoseconds() - $0.stats.startedAt) / 1e9)
    },
    CounterFamily("searchd_requests_total", .counter, "Requests answered, by kind.", stats: ["requests"]) { f in
      .each(ServerStats.RequestKind.allCases, "kind") { ($0.rawValue, f.stats.requests($0)) }
    },
    CounterFamily(
      "searchd_request_errors_total", .counter, "Bad requests answered with an error reply, by code.",
      stats: ["errors"]
    ) { f in .each(WireError.Code.allCases, "code") { ($0.rawValue, f.stats.errors($0)) } },
    CounterFamily(
      "searchd_request_duration_seconds", .histogram,
      "Time from the loop's wakeup to the reply queued, per request.", samples: latency),
    CounterFamily(
      "searchd_connections_open", .gauge, "Connections open now, by listener.", stats: ["connections", "current"],
      statsValue: { $0.stats.connectionsCurrent.load(ordering: .relaxed) }
    ) { f in .each(f.listeners, "listener") { ($0.description, $0.open.load(ordering: .relaxed)) } },
    CounterFamily(
      "searchd_connections_accepted_total", .counter, "Connections accepted, by listener.",
      stats: ["connections", "total"], statsValue: { $0.stats.connectionsTotal.load(ordering: .relaxed) }
    ) { f in .each(f.listeners, "listener") { ($0.description, $0.accepted.load(ordering: .relaxed)) } },
    CounterFamily(
      "searchd_connections_rejected_total", .counter,
      "Connections turned away at max-connections (admin-max-connections on admin listeners), by listener.",
      stats: ["connections", "rejected"], statsValue: { $0.stats.connectionsRejected.load(ordering: .relaxed) }
    ) { f in .each(f.listeners, "listener") { ($0.description, $0.rejected.load(ordering: .relaxed)) } },
    CounterFamily(
      "searchd_connections_closed_total", .counter, "Connections closed by searchd, by reason.",
      stats: ["connections"],
      statsValue: { f in
        [
          "idle_kicks": f.stats.idleKicks.load(ordering: .relaxed),
          "timeouts": f.stats.timeouts.load(ordering: .relaxed),
          "send_timeouts": f.stats.sendTimeouts.load(ordering: .relaxed),
        ]
      }
    ) { f in
      .each(
        [("idle", f.stats.idleKicks), ("request_timeout", f.stats.timeouts), ("send_timeout", f.stats.sendTimeouts)],
        "reason"
      ) { ($0.0, $0.1.load(ordering: .relaxed)) }
    },
    CounterFamily(
      "searchd_accept_errors_total", .counter, "accept(2) failures; those for want of descriptors also below.",
      stats: ["accept_errors"]
    ) { .one($0.stats.acceptErrors.load(ordering: .relaxed)) },
    CounterFamily(
      "searchd_accept_emfile_total", .counter, "accept(2) failures for want of descriptors (EMFILE, ENFILE).",
      stats: ["emfile_events"]
    ) { .one($0.stats.emfileEvents.load(ordering: .relaxed)) },
    CounterFamily(
      "searchd_tls_handshakes_total", .counter, "TLS handshakes completed, full or resumed.", stats: ["tls"],
      statsValue: { f in
        [
          "handshakes": f.stats.tlsHandshakes.load(ordering: .relaxed),
          "resumed": f.stats.tlsResumed.load(ordering: .relaxed),
        ]
      }
    ) { f in
      let resumed = f.stats.tlsResumed.load(ordering: .relaxed)
      return [
        .init(labels: ["outcome": "full"], value: Double(f.stats.tlsHandshakes.load(ordering: .relaxed) - resumed)),
        .init(labels: ["outcome": "resumed"], value: Double(resumed)),
      ]
    },
    CounterFamily(
      "searchd_tls_handshake_failures_total", .counter, "TLS connections closed before they were served, by reason.",
      stats: ["tls", "failures"]
    ) { f in
      .each(TLSFailure.allCases, "reason") { ($0.rawValue, f.stats.tlsFailures[$0.index].load(ordering: .relaxed)) }
    },
    CounterFamily(
      "searchd_proxy_header_failures_total", .counter,
      "Connections on PROXY listeners closed for their header, by reason.", stats: ["proxy_failures"]
    ) { f in
      .each(ProxyFailure.allCases, "reason") { ($0.rawValue, f.stats.proxyFailures[$0.index].load(ordering: .relaxed)) }
    },
    CounterFamily(
      "searchd_received_bytes_total", .counter, "Bytes read from application-protocol connections (after TLS).",
      stats: ["received_bytes"]
    ) { .one($0.stats.requestCounters.reduce(0) { $0 + $1.bytesReceived }) },
    CounterFamily(
      "searchd_sent_bytes_total", .counter, "Bytes written to application-protocol connections (before TLS).",
      stats: ["sent_bytes"]
    ) { .one($0.stats.requestCounters.reduce(0) { $0 + $1.bytesSent }) },
    CounterFamily("searchd_echo_bytes_total", .counter, "Bytes echoed by the echo service.", stats: ["echo_bytes"]) {
      .one($0.stats.echoBytes.load(ordering: .relaxed))
    },
    CounterFamily(
      "searchd_output_paused_total", .counter, "Times a connection stopped being read because its replies piled up.",
      stats: ["output_paused"]
    ) { .one($0.stats.outputPaused.load(ordering: .relaxed)) },
    CounterFamily(
      "searchd_request_yields_total", .counter,
      "Times a connection used up requests-per-wakeup and let others go first.", stats: ["request_yields"]
    ) { .one($0.stats.requestYields.load(ordering: .relaxed)) },
    CounterFamily(
      "searchd_reloads_total", .counter, "Reloads (SIGHUP), by outcome: applied, or the part that failed.",
      stats: ["reloads"]
    ) { f in
      .each(ReloadOutcome.allCases, "outcome") { ($0.rawValue, f.stats.reloads[$0.index].load(ordering: .relaxed)) }
    },
    CounterFamily(
      "searchd_index_file_modified", .gauge,
      "1 when the mapped index file was written to in place since it was loaded (/readyz then answers 503).",
      stats: ["index", "file_modified"], statsValue: { $0.stats.indexFileModified.load(ordering: .relaxed) }
    ) { .one($0.stats.indexFileModified.load(ordering: .relaxed) ? 1 : 0) },
    CounterFamily(
      "searchd_index_pages_zeroed_total", .counter,
      "Pages of the mapped index lost to a truncation in place, read as zeros (misses) instead of a SIGBUS.",
      stats: ["index", "pages_zeroed"]
    ) { _ in .one(MappedFile.pagesZeroed) },
    CounterFamily("searchd_index_entries", .gauge, "Entries in the index served.", stats: ["index", "entries"]) {
      .one($0.table.count)
    },
    CounterFamily(
      "searchd_index_bytes", .gauge, "Bytes of the index served (its file, or its image in memory).",
      stats: ["index", "bytes"]
    ) { .one($0.table.byteCount) },
    CounterFamily(
      "searchd_index_load_seconds", .gauge, "Seconds the index served took to load.", stats: ["index", "load_seconds"]
    ) { .one(Double($0.table.buildNanoseconds) / 1e9) },
    CounterFamily(
      "searchd_index_loaded_timestamp_seconds", .gauge,
      "When the index served was loaded (start or last reload), Unix time.", stats: ["index", "loaded_at"]
    ) { .one($0.stats.indexLoadedAt.load(ordering: .relaxed)) },
    // The stats reply lists the loops with both of their figures, as `searchctl status` shows them.
    CounterFamily(
      "searchd_loop_connections", .gauge, "Connections open now, by event loop.", stats: ["loops"],
      statsValue: { f in
        f.loopStats.enumerated().map { n, l in
          [
            "loop": n, "connections": l.connections.load(ordering: .relaxed),
            "accepted": l.accepted.load(ordering: .relaxed),
          ]
        }
      }
    ) { f in
      .each(f.loopStats.enumerated(), "loop") { (String($0.offset), $0.element.connections.load(ordering: .relaxed)) }
    },
    CounterFamily("searchd_loop_accepted_total", .counter, "Connections accepted, by event loop.") { f in
      .each(f.loopStats.enumerated(), "loop") { (String($0.offset), $0.element.accepted.load(ordering: .relaxed)) }
    },
  ]

  /// The loops' histograms added up, cumulative as Prometheus wants them.
  @Sendable private static func latency(_ f: CounterFamily.Figures) -> [CounterFamily.Sample] {
    var buckets = Array(repeating: 0, count: LatencyHistogram.bounds.count + 1)
    var count = 0
    var sum = 0.0
    for h in f.stats.latencies {
      let s = h.snapshot()
      for i in buckets.indices { buckets[i] += s.buckets[i] }
      count += s.count
      sum += s.sum
    }
    var out: [CounterFamily.Sample] = []
    var cumulative = 0
    for (i, bound) in LatencyHistogram.bounds.enumerated() {
      cumulative += buckets[i]
      out.append(.init(suffix: "_bucket", labels: ["le": Exposition.number(bound)], value: Double(cumulative)))
    }
    out.append(.init(suffix: "_bucket", labels: ["le": "+Inf"], value: Double(count)))
    out.append(.init(suffix: "_sum", labels: [:], value: sum))
    out.append(.init(suffix: "_count", labels: [:], value: Double(count)))
    return out
  }
}
