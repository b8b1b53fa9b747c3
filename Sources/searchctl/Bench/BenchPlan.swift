import SearchdSystem
import SearchdTLS
import SearchdWire

/// What one benchmark run does: the requests, how they are sent, when it stops,
/// and how each reply is checked.
struct BenchPlan: Sendable {
  enum Mode: String, Sendable, CaseIterable { case keepalive, perConnection = "per-connection" }

  let target: SocketAddress
  let sources: [SocketAddress]
  let mode: Mode
  let connections: Int
  let pipeline: Int
  /// Stop after this many replies…
  let requests: Int?
  /// …or after this many nanoseconds.
  let durationNs: UInt64?
  /// The requests to cycle through, each with the reply it must get (nil: any non-error reply).
  let requestsAndReplies: [(request: [UInt8], reply: [UInt8]?)]
  let timeoutMs: Int32
  /// Requests per second in all, paced evenly over the connections; nil: as fast as replies come.
  let rate: Double?
  /// With --tls: every connection is a TLS session.
  let tls: BenchTLS?
  /// With --proxy-header: every connection starts with a v2 PROXY header naming the
  /// client's own address, as HAProxy's send-proxy-v2 would.
  let proxyHeader: Bool

  /// How often one connection starts a batch under --rate.
  var batchIntervalNs: UInt64? {
    guard let rate else { return nil }
    let batch = mode == .keepalive ? pipeline : 1
    return UInt64(Double(connections * batch) / rate * 1e9)
  }
}

/// A run's TLS: the client context, the name to check, and whether a connection offers
/// the session an earlier one got (--tls-resume), so handshakes are resumed, not full.
struct BenchTLS: Sendable {
  let context: TLSContext
  let serverName: String?
  let resume: Bool
}

/// Why a request failed, as the report counts them.
enum BenchFailure: String, CaseIterable, Sendable {
  case connect = "connect"
  case closed = "closed"
  case wrongReply = "wrong-reply"
  case badFrame = "bad-frame"
  case errorReply = "error-reply"
  case timeout = "timeout"
  case tls = "tls"
}
