import Atomics
import SearchdSystem

/// What every loop shares, read-only or atomic.
final class SharedState: Sendable {
  let config: ServerConfig
  let stats: ServerStats
  let listeners: [ServiceListener]
  let maxConnections: Int
  /// Connection ids, unique across loops.
  private let lastConnectionID = ManagedAtomic<UInt64>(0)
  let loopStats: [LoopStats]

  init(config: ServerConfig, stats: ServerStats, listeners: [ServiceListener]) {
    self.config = config
    self.stats = stats
    self.listeners = listeners
    self.loopStats = (0..<max(1, config.threads)).map { _ in LoopStats() }
    self.maxConnections = config.effectiveMaxConnections
  }

  func nextConnectionID() -> UInt64 { lastConnectionID.wrappingIncrementThenLoad(ordering: .relaxed) }
}
