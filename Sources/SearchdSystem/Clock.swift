import Glibc

/// CLOCK_MONOTONIC: deadlines and timeouts, immune to wall-clock jumps, and
/// the clock systemd's MONOTONIC_USEC= refers to.
public enum MonotonicClock {
  public static func nanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }

  public static func microseconds() -> UInt64 { nanoseconds() / 1000 }
}
