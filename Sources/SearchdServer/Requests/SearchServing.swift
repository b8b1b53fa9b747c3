import SearchdIndex
import SearchdWire

/// What the search protocol's connections use of their loop besides the driver's
/// context: the request reader and handler (and with it the index), lent for a batch, and
/// the latency histogram. One per loop, owned by the loop's worker, confined to its thread.
final class SearchServing {
  /// What serving a batch needs, in one stored property: one exclusive access per batch
  /// (rule 3, docs/PERFORMANCE.md).
  struct Lent {
    var handler: RequestHandler
    /// The request reader and its caches, shared by the loop's connections.
    var reader: RequestReader
  }

  private var lent: Lent
  /// This loop's request latencies.
  let latency: LatencyHistogram
  /// The per-request debug line is wanted (the level is fixed at start-up).
  let logsRequests: Bool

  init(handler: RequestHandler, latency: LatencyHistogram, logsRequests: Bool) {
    lent = Lent(handler: handler, reader: RequestReader(limits: handler.limits))
    self.latency = latency
    self.logsRequests = logsRequests
  }

  /// Lends the handler and the reader for a batch of requests. Nothing `body` calls may
  /// come back here.
  func withLent<R>(_ body: (inout Lent) -> R) -> R { body(&lent) }

  /// A reload's new index, from the next request on.
  func replaceTable(_ table: LookupTable) { lent.handler.table = table }

  var table: LookupTable { lent.handler.table }
}
