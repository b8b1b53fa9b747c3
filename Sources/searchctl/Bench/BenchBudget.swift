import Atomics
import SearchdSystem

/// When a run ends: the replies still wanted, shared by every worker (a run of -n
/// requests), or a deadline (a run of --duration seconds).
struct BenchBudget: Sendable {
  let remaining: ManagedAtomic<Int>
  let limited: Bool
  let deadline: UInt64?

  /// Claims up to `n` requests.
  func claim(_ n: Int) -> Int {
    if let deadline, MonotonicClock.nanoseconds() >= deadline { return 0 }
    guard limited else { return n }
    var current = remaining.load(ordering: .relaxed)
    while current > 0 {
      let take = min(n, current)
      let (done, now) = remaining.compareExchange(expected: current, desired: current - take, ordering: .relaxed)
      if done { return take }
      current = now
    }
    return 0
  }
}
