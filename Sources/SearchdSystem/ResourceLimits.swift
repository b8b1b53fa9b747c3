import Glibc

/// The per-process descriptor limit, for sizing connection caps.
public enum ResourceLimits {
  public static func openFiles() -> (soft: UInt64, hard: UInt64) {
    var rl = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
    return (UInt64(rl.rlim_cur), UInt64(rl.rlim_max))
  }
}
