import Atomics
import SearchdConfig
import SearchdLoop
import SearchdSystem
import SearchdTLS
import SearchdVersion

/// What every loop shares, read-only or atomic.
final class SharedState: Sendable {
  let config: ServerConfig
  let stats: ServerStats
  let listeners: [ServiceListener]
  let maxConnections: Int
  /// Connection ids, unique across loops.
  private let lastConnectionID = ManagedAtomic<UInt64>(0)
  let loopStats: [LoopStats]
  /// The TLS context at start; each loop then keeps its own reference, swapped on reload.
  let tls: TLSContext?
  /// What every loop waits with, decided at start.
  let backend: IOBackend
  /// What /metrics reports.
  let metrics: MetricsReport

  init(config: ServerConfig, stats: ServerStats, listeners: [ServiceListener], tls: TLSContext?, backend: IOBackend) {
    self.config = config
    self.backend = backend
    self.tls = tls
    self.stats = stats
    self.listeners = listeners
    self.loopStats = (0..<max(1, config.threads)).map { _ in LoopStats() }
    self.maxConnections = config.effectiveMaxConnections
    metrics = MetricsReport(
      stats: stats, loopStats: loopStats, listeners: listeners, version: SearchdVersion.current,
      backend: backend.rawValue)
  }

  /// Whether a new connection to `service` is over its limit: the admin listeners count
  /// against admin-max-connections alone, every other listener against max-connections.
  func atLimit(_ service: Service) -> Bool {
    let admin = stats.adminConnectionsCurrent.load(ordering: .relaxed)
    if service == .admin { return admin >= config.adminMaxConnections }
    return stats.connectionsCurrent.load(ordering: .relaxed) - admin >= maxConnections
  }

  func nextConnectionID() -> UInt64 { lastConnectionID.wrappingIncrementThenLoad(ordering: .relaxed) }
}
