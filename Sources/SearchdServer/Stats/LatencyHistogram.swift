import Atomics

/// One loop's request latencies, in Prometheus's bucket form: written by its loop alone
/// (a relaxed load and store, no locked instruction), read by the admin listener's scrape,
/// which adds up every loop's. Latency is from the loop's wakeup to the reply queued.
public final class LatencyHistogram: @unchecked Sendable {
  // @unchecked: the storage is only touched through atomic operations.
  /// Upper bounds in seconds (the last, +Inf, is implicit).
  public static let bounds: [Double] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
  ]
  /// A slot per bound, then +Inf, then the count and the sum in nanoseconds.
  private static let slots = bounds.count + 3
  private let storage: UnsafeMutablePointer<UnsafeAtomic<Int>.Storage>
  /// The bounds in nanoseconds, held by each histogram: a static derived from `bounds`
  /// would be a lazy global, its once-only check paid on every `record`.
  private let boundsNs = LatencyHistogram.bounds.map { UInt64($0 * 1e9) }
  /// After a slot per bound and +Inf's: the count's slot and the sum's.
  private var countSlot: Int { boundsNs.count + 1 }
  private var sumSlot: Int { boundsNs.count + 2 }

  public init() {
    storage = UnsafeMutablePointer.allocate(capacity: Self.slots)
    storage.initialize(repeating: UnsafeAtomic<Int>.Storage(0), count: Self.slots)
  }

  deinit {
    storage.deinitialize(count: Self.slots)
    storage.deallocate()
  }

  /// `count` requests that each took `nanoseconds`. From the owning loop's thread only.
  public func record(_ nanoseconds: UInt64, count: Int) {
    var slot = 0
    while slot < boundsNs.count && nanoseconds > boundsNs[slot] { slot += 1 }
    bump(slot, by: count)
    bump(countSlot, by: count)
    bump(sumSlot, by: Int(truncatingIfNeeded: nanoseconds) &* count)
  }

  /// Per-bucket counts (not cumulative; +Inf last), the count, and the sum in seconds.
  public func snapshot() -> (buckets: [Int], count: Int, sum: Double) {
    let all = (0..<Self.slots).map { UnsafeAtomic<Int>(at: storage + $0).load(ordering: .relaxed) }
    return (Array(all[..<countSlot]), all[countSlot], Double(all[sumSlot]) / 1e9)
  }

  private func bump(_ slot: Int, by n: Int) {
    let a = UnsafeAtomic<Int>(at: storage + slot)
    a.store(a.load(ordering: .relaxed) &+ n, ordering: .relaxed)
  }
}
