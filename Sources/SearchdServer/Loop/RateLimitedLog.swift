import Logging

/// Logs a kind of event at most once a second, counting what it held back, so a flood of
/// bad input cannot flood the journal. One per loop; its clock is the loop's.
struct RateLimitedLog<Kind: Hashable> {
  private var last: [Kind: UInt64] = [:]
  private var suppressed: [Kind: Int] = [:]
  private let interval: UInt64 = 1_000_000_000

  /// Calls `log` with the number held back since the last line, or counts this one.
  mutating func report(_ kind: Kind, now: UInt64, _ log: (_ suppressed: Int) -> Void) {
    if let at = last[kind], now - at < interval {
      suppressed[kind, default: 0] += 1
      return
    }
    last[kind] = now
    log(suppressed.removeValue(forKey: kind) ?? 0)
  }
}
