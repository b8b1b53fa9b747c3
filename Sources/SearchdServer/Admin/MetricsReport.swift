import SearchdIndex
import SearchdSystem
import SearchdWire

/// `GET /metrics`: the Prometheus text exposition format, version 0.0.4. Every figure is
/// read at scrape time from the counters the loops keep (relaxed atomics, per loop where
/// they are bumped per request), so serving a scrape costs the search path nothing.
struct MetricsReport: Sendable {
  let stats: ServerStats
  let loopStats: [LoopStats]
  let listeners: [ServiceListener]
  let version: String

  static let contentType = "text/plain; version=0.0.4; charset=utf-8"

  func render(_ table: LookupTable) -> String {
    var out = Exposition()
    out.family("searchd_build_info", "gauge", "searchd's version, as a label.")
    out.sample("searchd_build_info", ["version": version], 1)
    out.family("searchd_ready", "gauge", "1 while serving; 0 before the listeners are served and while draining.")
    out.sample("searchd_ready", [:], stats.ready.load(ordering: .relaxed) ? 1 : 0)
    out.family("searchd_uptime_seconds", "gauge", "Seconds since start.")
    out.sample("searchd_uptime_seconds", [:], Double(MonotonicClock.nanoseconds() - stats.startedAt) / 1e9)

    out.family("searchd_requests_total", "counter", "Requests answered, by kind.")
    for kind in ServerStats.RequestKind.allCases {
      out.sample("searchd_requests_total", ["kind": kind.rawValue], stats.requests(kind))
    }
    out.family("searchd_request_errors_total", "counter", "Bad requests answered with an error reply, by code.")
    for code in WireError.Code.allCases {
      out.sample("searchd_request_errors_total", ["code": code.rawValue], stats.errors(code))
    }
    latency(&out)

    out.family("searchd_connections_open", "gauge", "Connections open now, by listener.")
    for l in listeners {
      out.sample("searchd_connections_open", ["listener": l.description], l.open.load(ordering: .relaxed))
    }
    out.family("searchd_connections_accepted_total", "counter", "Connections accepted, by listener.")
    for l in listeners {
      out.sample("searchd_connections_accepted_total", ["listener": l.description], l.accepted.load(ordering: .relaxed))
    }
    out.family(
      "searchd_connections_rejected_total", "counter", "Connections turned away at max-connections, by listener.")
    for l in listeners {
      out.sample("searchd_connections_rejected_total", ["listener": l.description], l.rejected.load(ordering: .relaxed))
    }
    out.family("searchd_connections_closed_total", "counter", "Connections closed by searchd, by reason.")
    for (reason, n) in [
      ("idle", stats.idleKicks), ("request_timeout", stats.timeouts), ("send_timeout", stats.sendTimeouts),
    ] {
      out.sample("searchd_connections_closed_total", ["reason": reason], n.load(ordering: .relaxed))
    }
    out.family(
      "searchd_accept_errors_total", "counter", "accept(2) failures; those for want of descriptors also below.")
    out.sample("searchd_accept_errors_total", [:], stats.acceptErrors.load(ordering: .relaxed))
    out.family("searchd_accept_emfile_total", "counter", "accept(2) failures for want of descriptors (EMFILE, ENFILE).")
    out.sample("searchd_accept_emfile_total", [:], stats.emfileEvents.load(ordering: .relaxed))
    out.family("searchd_tls_handshakes_total", "counter", "TLS handshakes completed, full or resumed.")
    let resumed = stats.tlsResumed.load(ordering: .relaxed)
    out.sample(
      "searchd_tls_handshakes_total", ["outcome": "full"], stats.tlsHandshakes.load(ordering: .relaxed) - resumed)
    out.sample("searchd_tls_handshakes_total", ["outcome": "resumed"], resumed)
    out.family(
      "searchd_tls_handshake_failures_total", "counter", "TLS connections closed before they were served, by reason.")
    for f in TLSFailure.allCases {
      out.sample(
        "searchd_tls_handshake_failures_total", ["reason": f.rawValue],
        stats.tlsFailures[f.index].load(ordering: .relaxed))
    }
    out.family(
      "searchd_proxy_header_failures_total", "counter",
      "Connections on PROXY listeners closed for their header, by reason.")
    for f in ProxyFailure.allCases {
      out.sample(
        "searchd_proxy_header_failures_total", ["reason": f.rawValue],
        stats.proxyFailures[f.index].load(ordering: .relaxed))
    }
    out.family(
      "searchd_received_bytes_total", "counter", "Bytes read from application-protocol connections (after TLS).")
    out.sample("searchd_received_bytes_total", [:], stats.requestCounters.reduce(0) { $0 + $1.bytesReceived })
    out.family("searchd_sent_bytes_total", "counter", "Bytes written to application-protocol connections (before TLS).")
    out.sample("searchd_sent_bytes_total", [:], stats.requestCounters.reduce(0) { $0 + $1.bytesSent })
    out.family("searchd_echo_bytes_total", "counter", "Bytes echoed by the echo service.")
    out.sample("searchd_echo_bytes_total", [:], stats.echoBytes.load(ordering: .relaxed))
    out.family(
      "searchd_output_paused_total", "counter", "Times a connection stopped being read because its replies piled up.")
    out.sample("searchd_output_paused_total", [:], stats.outputPaused.load(ordering: .relaxed))
    out.family(
      "searchd_request_yields_total", "counter",
      "Times a connection used up requests-per-wakeup and let others go first.")
    out.sample("searchd_request_yields_total", [:], stats.requestYields.load(ordering: .relaxed))

    out.family("searchd_reloads_total", "counter", "Reloads (SIGHUP), by outcome: applied, or the part that failed.")
    for o in ReloadOutcome.allCases {
      out.sample("searchd_reloads_total", ["outcome": o.rawValue], stats.reloads[o.index].load(ordering: .relaxed))
    }
    out.family(
      "searchd_index_file_modified", "gauge",
      "1 when the mapped index file was written to in place since it was loaded (/readyz then answers 503).")
    out.sample("searchd_index_file_modified", [:], stats.indexFileModified.load(ordering: .relaxed) ? 1 : 0)
    out.family(
      "searchd_index_pages_zeroed_total", "counter",
      "Pages of the mapped index lost to a truncation in place, read as zeros (misses) instead of a SIGBUS.")
    out.sample("searchd_index_pages_zeroed_total", [:], MappedFile.pagesZeroed)
    out.family("searchd_index_entries", "gauge", "Entries in the index served.")
    out.sample("searchd_index_entries", [:], table.count)
    out.family("searchd_index_bytes", "gauge", "Bytes of the index served (its file, or its image in memory).")
    out.sample("searchd_index_bytes", [:], table.byteCount)
    out.family("searchd_index_load_seconds", "gauge", "Seconds the index served took to load.")
    out.sample("searchd_index_load_seconds", [:], Double(table.buildNanoseconds) / 1e9)
    out.family(
      "searchd_index_loaded_timestamp_seconds", "gauge",
      "When the index served was loaded (start or last reload), Unix time.")
    out.sample("searchd_index_loaded_timestamp_seconds", [:], stats.indexLoadedAt.load(ordering: .relaxed))
    return out.text
  }

  /// The loops' histograms added up, cumulative as Prometheus wants them.
  private func latency(_ out: inout Exposition) {
    let name = "searchd_request_duration_seconds"
    out.family(name, "histogram", "Time from the loop's wakeup to the reply queued, per request.")
    var buckets = Array(repeating: 0, count: LatencyHistogram.bounds.count + 1)
    var count = 0
    var sum = 0.0
    for h in stats.latencies {
      let s = h.snapshot()
      for i in buckets.indices { buckets[i] += s.buckets[i] }
      count += s.count
      sum += s.sum
    }
    var cumulative = 0
    for (i, bound) in LatencyHistogram.bounds.enumerated() {
      cumulative += buckets[i]
      out.sample(name + "_bucket", ["le": Exposition.number(bound)], cumulative)
    }
    out.sample(name + "_bucket", ["le": "+Inf"], count)
    out.sample(name + "_sum", [:], sum)
    out.sample(name + "_count", [:], count)
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
