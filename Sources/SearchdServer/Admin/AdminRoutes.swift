import SearchdIndex
import SearchdSystem

/// What the admin listener answers, by path. Readiness is the server's flag; health is
/// every loop's sweep having run lately (the watchdog's test: a stuck loop stops it).
struct AdminRoutes {
  struct Response {
    let status: Int
    let contentType: String
    let body: String

    /// The whole HTTP/1.1 response; every one closes its connection.
    func bytes(head: Bool) -> [UInt8] {
      var text = "HTTP/1.1 \(status) \(AdminRoutes.reason(status))\r\n"
      text += "Content-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n"
      if status == 405 { text += "Allow: GET, HEAD\r\n" }
      text += "Connection: close\r\nCache-Control: no-store\r\n\r\n"
      return Array(text.utf8) + (head ? [] : Array(body.utf8))
    }
  }

  /// What a connection over admin-max-connections is told before it is closed.
  static let tooBusy = text(503, "too many admin connections (admin-max-connections); try again\n").bytes(head: false)

  let metrics: MetricsReport
  let loopStats: [LoopStats]
  /// The index the answering loop serves (each loop has the same one after a reload).
  let table: () -> LookupTable

  init(metrics: MetricsReport, loopStats: [LoopStats], table: @escaping () -> LookupTable) {
    self.metrics = metrics
    self.loopStats = loopStats
    self.table = table
  }

  func answer(_ path: String) -> Response {
    switch path {
    case "/metrics": return Response(status: 200, contentType: MetricsReport.contentType, body: metrics.render(table()))
    case "/healthz":
      let now = MonotonicClock.nanoseconds()
      // Sweeps run every 250 ms; five seconds without one is a stuck loop, not a busy one.
      let stuck = loopStats.indices.filter { now &- loopStats[$0].lastSweep.load(ordering: .relaxed) > 5_000_000_000 }
      return stuck.isEmpty
        ? Self.text(200, "ok\n")
        : Self.text(503, "event loops not turning: \(stuck.map(String.init).joined(separator: ","))\n")
    case "/readyz":
      let stats = metrics.stats
      guard stats.ready.load(ordering: .relaxed) else { return Self.text(503, "not ready\n") }
      guard !stats.indexFileModified.load(ordering: .relaxed) else {
        return Self.text(503, "not ready: the index file was written to in place; replace it and reload\n")
      }
      return Self.text(200, "ready\n")
    default: return Self.text(404, "not found: /metrics, /healthz, /readyz\n")
    }
  }

  static func refusal(_ status: Int, _ reason: String) -> Response { text(status, reason + "\n") }

  private static func text(_ status: Int, _ body: String) -> Response {
    Response(status: status, contentType: "text/plain; charset=utf-8", body: body)
  }

  static func reason(_ status: Int) -> String {
    switch status {
    case 200: return "OK"
    case 400: return "Bad Request"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 408: return "Request Timeout"
    case 414: return "URI Too Long"
    case 431: return "Request Header Fields Too Large"
    case 503: return "Service Unavailable"
    case 505: return "HTTP Version Not Supported"
    default: return "Error"
    }
  }
}
