import Atomics

/// One loop's share of the work, for per-loop figures.
public final class LoopStats: Sendable {
  public let connections = ManagedAtomic<Int>(0)
  public let accepted = ManagedAtomic<Int>(0)
  /// When its sweep last ran (monotonic ns): a loop that stops turning stops updating it.
  public let lastSweep = ManagedAtomic<UInt64>(0)
  public init() {}
}
