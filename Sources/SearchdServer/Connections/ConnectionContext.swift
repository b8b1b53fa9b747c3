import Logging
import SearchdConfig
import SearchdLoop
import SearchdSystem
import SearchdWire

/// What every connection's driver uses of its loop, whatever its protocol: the clock and
/// readiness changes, the limits, the counters, the buffer pools, the protocol-error log,
/// and its registry to leave on close. One per loop, owned by the loop's worker, confined to
/// its thread. What one protocol needs besides is its own (`SearchServing` for search).
final class ConnectionContext {
  let loop: EventLoop
  let limits: ConnectionLimits
  /// The process-wide counters (connections, flow control).
  let stats: ServerStats
  /// This loop's request, error and traffic counters (also the handler's).
  let counters: RequestCounters
  let logger: Logger
  /// Read buffers and output queues lent to connections while they hold bytes.
  var inputs = BufferPool<InputBuffer>()
  /// An output queue grown by a burst of replies is freed rather than kept.
  var outputs = BufferPool<OutputQueue>(largest: 1 << 16)
  private var errorLog = RateLimitedLog<WireError.Code>()
  private var proxyLog = RateLimitedLog<ProxyFailure>()
  let registry: ConnectionRegistry

  init(
    loop: EventLoop, limits: ConnectionLimits, stats: ServerStats, counters: RequestCounters, logger: Logger,
    registry: ConnectionRegistry
  ) {
    self.loop = loop
    self.limits = limits
    self.stats = stats
    self.counters = counters
    self.logger = logger
    self.registry = registry
  }

  var now: UInt64 { loop.now }

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

  /// Counts a PROXY header refused and logs it (at most once a second per reason).
  func reportProxyFailure(_ failure: ProxyFailure, detail: String, peer: SocketAddress?) {
    stats.proxyFailures[failure.index].wrappingIncrement(ordering: .relaxed)
    proxyLog.report(failure, now: loop.now) { suppressed in
      logger.notice(
        "PROXY header refused: \(detail)",
        metadata: [
          "searchd_proxy_error": "\(failure.rawValue)", "searchd_peer": "\(peer.map(String.init(describing:)) ?? "?")",
          "searchd_suppressed": "\(suppressed)",
        ])
    }
  }

  /// The debug line for a connection accepted (on a PROXY listener, once its header is read).
  func logAccepted(_ id: UInt64, peer: SocketAddress?, served: ServiceListener) {
    guard logger.logLevel <= .debug else { return }
    logger.debug(
      "connection accepted",
      metadata: [
        "searchd_connection": "\(id)", "searchd_listener": "\(served.listener)",
        "searchd_peer": "\(peer.map(String.init(describing:)) ?? "?")", "searchd_service": "\(served.service.rawValue)",
      ])
  }
}
