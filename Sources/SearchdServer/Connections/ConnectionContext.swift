import Logging
import SearchdConfig
import SearchdIndex
import SearchdLoop
import SearchdWire

/// What a connection may use of its loop, and nothing more: the clock and readiness
/// changes, the limits, the counters, the buffer pools, the current request handler (and
/// with it the index), the protocol-error log, and its registry to leave on close. One per
/// loop, owned by the loop's worker, confined to its thread.
final class ConnectionContext {
  let loop: EventLoop
  let wire: WireLimits
  let limits: ConnectionLimits
  /// The process-wide counters (connections, flow control).
  let stats: ServerStats
  /// This loop's request and error counters (also the handler's: errors are counted here
  /// while the handler is lent out).
  let counters: RequestCounters
  /// This loop's request latencies.
  let latency: LatencyHistogram
  let logger: Logger
  /// The per-request debug line is wanted (the level is fixed at start-up).
  let logsRequests: Bool
  /// Read buffers and output queues lent to connections while they hold bytes.
  var inputs = BufferPool<InputBuffer>()
  /// An output queue grown by a burst of replies is freed rather than kept.
  var outputs = BufferPool<OutputQueue>(largest: 1 << 16)
  /// What serving a batch needs of the loop, in one stored property: one exclusive access
  /// per batch (rule 3, docs/PERFORMANCE.md).
  struct Serving {
    var handler: RequestHandler
    /// The request reader and its caches, shared by the loop's connections.
    var reader: RequestReader
  }

  private var serving: Serving
  private var errorLog = RateLimitedLog<WireError.Code>()
  let registry: ConnectionRegistry

  init(
    loop: EventLoop, wire: WireLimits, limits: ConnectionLimits, stats: ServerStats, logger: Logger,
    handler: RequestHandler, latency: LatencyHistogram, registry: ConnectionRegistry
  ) {
    self.loop = loop
    self.wire = wire
    self.limits = limits
    counters = handler.counters
    self.latency = latency
    self.stats = stats
    self.logger = logger
    serving = Serving(handler: handler, reader: RequestReader(limits: wire))
    self.registry = registry
    logsRequests = logger.logLevel <= .debug
  }

  var now: UInt64 { loop.now }

  /// Lends the handler and the reader for a batch of requests. Nothing `body` calls may
  /// touch `serving` again.
  func withServing<R>(_ body: (inout Serving) -> R) -> R { body(&serving) }

  /// A reload's new index, from the next request on.
  func replaceTable(_ table: LookupTable) { serving.handler.table = table }

  var table: LookupTable { serving.handler.table }

  /// Counts a request's error and logs it (at most once a second per code): the peer's and
  /// client's names are made only when a line is written.
  func reportProtocolError(
    _ error: WireError, connection: UInt64, peer: @autoclosure () -> String, client: @autoclosure () -> String? = nil
  ) {
    counters.count(error.code)
    errorLog.report(error.code, now: loop.now) { suppressed in
      logger.notice(
        "bad request: \(error.detail)",
        metadata: [
          "searchd_error": "\(error.code.rawValue)", "searchd_connection": "\(connection)", "searchd_peer": "\(peer())",
          "searchd_suppressed": "\(suppressed)", "searchd_client": "\(client() ?? "")",
        ])
    }
  }
}
