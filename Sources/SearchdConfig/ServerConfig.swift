import Glibc
import Logging
import SearchdSystem
import SearchdWire

/// Everything the server is told at start-up. The defaults here are the settings'
/// defaults: `Settings` reads them off a fresh value, so each is written once.
public struct ServerConfig: Sendable {
  /// Given addresses only; `plainListen` adds the default.
  public var listen: [Endpoint] = []
  public var echoListen: [Endpoint] = []
  public var tlsListen: [Endpoint] = []
  public var tls = TLSSettings()
  /// Listeners behind a balancer: each connection starts with a PROXY header.
  public var proxyListen: [Endpoint] = []
  public var proxyTLSListen: [Endpoint] = []
  public var proxy = ProxySettings()
  /// HTTP for operators: /metrics, /healthz, /readyz. Off unless given.
  public var adminListen: [Endpoint] = []
  /// After SIGTERM, how long /readyz says 503 while searchd still serves, so a balancer
  /// takes the replica out before it stops accepting.
  public var drainDelay: Duration = .zero
  /// Event loops, each on its own thread, each owning its connections: one per core.
  public var threads = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
  /// epoll: measured, io_uring costs no less per request here, and hardened hosts often
  /// refuse it (PERFORMANCE.md, rule 9).
  public var ioBackend = IOBackendChoice.epoll
  public var wire = WireLimits.default
  public var connection = ConnectionLimits()
  /// At most this many connections at once; clamped to the fd limit less a reserve.
  public var maxConnections = 1024
  /// The admin listeners' own limit, beside max-connections: /healthz, /readyz and
  /// /metrics are answered while the search listeners are full.
  public var adminMaxConnections = 16
  public var listenBacklog: Int32 = 511
  /// Connections accepted per listener per loop turn, so a flood cannot starve served clients.
  public var acceptsPerWakeup = 16
  /// How long SIGTERM waits for replies to drain before closing what is left.
  public var shutdownGrace: Duration = .seconds(5)
  /// A JSON file of the index; nil for the built-in one.
  public var indexPath: String?
  public var logLevel = Logger.Level.info
  public var logTarget = LogTarget.auto

  public init() {}

  /// Where a daemon told of no application listener at all serves.
  public static let defaultListen = Endpoint.host("127.0.0.1", port: 65432)

  /// The search protocol's listeners in clear: `listen`, or the default when no
  /// application listener of any kind is given. A replica configured with proxy-listen
  /// alone serves nothing in clear (and several replicas on one host do not collide on
  /// the default port).
  public var plainListen: [Endpoint] {
    guard listen.isEmpty && tlsListen.isEmpty && proxyListen.isEmpty && proxyTLSListen.isEmpty else { return listen }
    return [Self.defaultListen]
  }

  /// max-connections, lowered so the fds left for listeners and the like never run out.
  public var effectiveMaxConnections: Int {
    let soft = ResourceLimits.openFiles().soft
    let cap = soft > 64 ? Int(min(soft - 32, UInt64(Int.max))) : Int(soft / 2)
    // The admin listeners' connections come out of the same descriptors.
    let admin = adminListen.isEmpty ? 0 : adminMaxConnections
    return max(1, min(maxConnections, cap - admin))
  }
}
