import Atomics
import SearchdWire

/// Counters every loop bumps; relaxed atomics, read by status and stats. Per-request
/// counts are per loop (`RequestCounters`), as they are bumped on every request.
public final class ServerStats: Sendable {
  public enum RequestKind: String, CaseIterable, Sendable {
    case searchHit = "search_hit"
    case searchMiss = "search_miss"
    case invalidAction = "invalid_action"
    case binary = "binary"
    case stats = "stats"
    case suggest = "suggest"
  }

  public let connectionsCurrent = ManagedAtomic<Int>(0)
  public let connectionsTotal = ManagedAtomic<Int>(0)
  public let connectionsRejected = ManagedAtomic<Int>(0)
  public let echoBytes = ManagedAtomic<Int>(0)
  public let idleKicks = ManagedAtomic<Int>(0)
  public let timeouts = ManagedAtomic<Int>(0)
  /// Connections closed because the peer stopped reading its replies.
  public let sendTimeouts = ManagedAtomic<Int>(0)
  public let acceptErrors = ManagedAtomic<Int>(0)
  /// Accepts that failed for want of descriptors (EMFILE/ENFILE).
  public let emfileEvents = ManagedAtomic<Int>(0)
  /// Times a connection stopped reading because its replies piled up (backpressure).
  public let outputPaused = ManagedAtomic<Int>(0)
  /// Times a connection used up its requests-per-wakeup and let the others go first.
  public let requestYields = ManagedAtomic<Int>(0)
  /// TLS handshakes completed, and of those the resumed ones (a session ticket).
  public let tlsHandshakes = ManagedAtomic<Int>(0)
  public let tlsResumed = ManagedAtomic<Int>(0)
  /// TLS connections closed before they were served, by `TLSFailure` (in its case order).
  public let tlsFailures = TLSFailure.allCases.map { _ in ManagedAtomic<Int>(0) }
  /// Connections on PROXY listeners closed before they were served, by `ProxyFailure`.
  public let proxyFailures = ProxyFailure.allCases.map { _ in ManagedAtomic<Int>(0) }
  /// Request and error counts, one set per loop (each written by its loop alone).
  public let requestCounters: [RequestCounters]
  /// Request latencies, one histogram per loop.
  public let latencies: [LatencyHistogram]
  public let startedAt: UInt64
  /// When the index now served was loaded (Unix seconds): at start, then each reload.
  public let indexLoadedAt = ManagedAtomic<Int>(0)
  /// Serving: false until the listeners are served, and again from SIGTERM on.
  public let ready = ManagedAtomic<Bool>(false)
  /// The mapped index file was written to or truncated in place since it was loaded:
  /// its answers can no longer be trusted, so /readyz says 503 until a reload.
  public let indexFileModified = ManagedAtomic<Bool>(false)
  /// Reloads (SIGHUP) by how they ended, in `ReloadOutcome`'s case order.
  public let reloads = ReloadOutcome.allCases.map { _ in ManagedAtomic<Int>(0) }
  /// Connections open on the admin listeners, which have their own limit.
  public let adminConnectionsCurrent = ManagedAtomic<Int>(0)

  public init(startedAt: UInt64, loopCount: Int = 1) {
    self.startedAt = startedAt
    requestCounters = (0..<max(1, loopCount)).map { _ in RequestCounters() }
    latencies = (0..<max(1, loopCount)).map { _ in LatencyHistogram() }
  }

  public func requests(_ kind: RequestKind) -> Int { requestCounters.reduce(0) { $0 + $1.requests(kind) } }
  public func errors(_ code: WireError.Code) -> Int { requestCounters.reduce(0) { $0 + $1.errors(code) } }

  public var requestsServed: Int { RequestKind.allCases.reduce(0) { $0 + requests($1) } + errorsTotal }
  public var errorsTotal: Int { WireError.Code.allCases.reduce(0) { $0 + errors($1) } }
}

/// How a reload ended: everything applied, or the first part that could not be, the
/// rest of that reload then left as it was.
public enum ReloadOutcome: String, CaseIterable, Sendable {
  case applied
  /// The config file is gone, unreadable or invalid: nothing was applied.
  case configFailed = "config_failed"
  /// The index could not be loaded: the old one serves on.
  case indexFailed = "index_failed"
  /// The TLS certificate, key or CA could not be read: the old ones serve on.
  case tlsFailed = "tls_failed"

  /// Its slot in `ServerStats.reloads`.
  var index: Int { Self.allCases.firstIndex(of: self)! }
}
