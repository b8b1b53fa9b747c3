import Logging
import SearchdConfig
import SearchdLoop
import SearchdSystem
import SearchdTLS
import SearchdWire

/// Makes the connection a socket accepted on a listener is served by: the listener's
/// service decides which (search, TLS, echo, admin), and on a PROXY listener a
/// `ProxyPreamble` reads the header first and hands the socket back here, with the client's
/// address and whatever bytes came with the header. It registers each with the loop's
/// registry, which owns it from then on. One per loop, owned by its `LoopWorker`.
final class ConnectionFactory: ProxyPreambleDelegate {
  private let shared: SharedState
  private let context: ConnectionContext
  private let search: SearchServing
  private let registry: ConnectionRegistry
  private let tls: TLSLoop?
  private let admin: AdminRoutes
  private let logger: Logger
  private var proxyLog = RateLimitedLog<ProxyFailure>()

  init(
    shared: SharedState, context: ConnectionContext, search: SearchServing, registry: ConnectionRegistry, tls: TLSLoop?,
    admin: AdminRoutes, logger: Logger
  ) {
    self.shared = shared
    self.context = context
    self.search = search
    self.registry = registry
    self.tls = tls
    self.admin = admin
    self.logger = logger
  }

  /// A new connection: served at once, or first its PROXY header read.
  func adopt(_ socket: Socket, peer: SocketAddress?, served: ServiceListener) {
    guard served.proxied else { return serve(socket, peer: peer, served: served) }
    let proxy = shared.config.proxy
    // An untrusted peer is refused before a byte of it is read.
    guard proxy.trustedFrom.contains(peer) else {
      proxyFailed(.untrusted, detail: "a PROXY listener's peer outside proxy-trusted-from", peer: peer)
      socket.close()
      return
    }
    let preamble = ProxyPreamble(
      socket: socket, peer: peer, served: served,
      deadline: context.now + shared.config.connection.requestTimeout.nanoseconds, allowLocal: proxy.allowLocal,
      delegate: self)
    guard register(preamble, socket: socket, on: served) else { return }
    // A balancer sends the header as it connects: it is usually there by the accept, so
    // it is read now rather than after another trip through epoll.
    preamble.handleEvents(.readable)
  }

  func proxyHeaderRead(
    _ stage: ProxyPreamble, client: SocketAddress?, after: UnsafeRawBufferPointer, moreWaiting: Bool
  ) {
    let id = shared.nextConnectionID()
    guard let conn = connection(stage.socket, id: id, peer: client, served: stage.served) else {
      return registry.close(stage, socket: stage.socket)
    }
    registry.handOn(stage, to: conn)
    logAccepted(id, peer: client, served: stage.served)
    // The client's first bytes came with the header: served in this same wakeup.
    if !after.isEmpty {
      conn.handleReceived(after)
    } else if moreWaiting {
      conn.handleEvents(.readable)
    }
  }

  func proxyHeaderFailed(_ stage: ProxyPreamble, _ failure: ProxyFailure?, detail: String) {
    if let failure { proxyFailed(failure, detail: detail, peer: stage.peer) }
    registry.close(stage, socket: stage.socket)
  }

  private func proxyFailed(_ failure: ProxyFailure, detail: String, peer: SocketAddress?) {
    shared.stats.proxyFailures[failure.index].wrappingIncrement(ordering: .relaxed)
    proxyLog.report(failure, now: context.now) { suppressed in
      logger.notice(
        "PROXY header refused: \(detail)",
        metadata: [
          "searchd_proxy_error": "\(failure.rawValue)", "searchd_peer": "\(peer.map(String.init(describing:)) ?? "?")",
          "searchd_suppressed": "\(suppressed)",
        ])
    }
  }

  /// Serves a connection accepted with its peer known.
  private func serve(_ socket: Socket, peer: SocketAddress?, served: ServiceListener) {
    let id = shared.nextConnectionID()
    guard let conn = connection(socket, id: id, peer: peer, served: served) else { return socket.close() }
    guard register(conn, socket: socket, on: served) else { return }
    logAccepted(id, peer: peer, served: served)
  }

  /// The connection that serves `served`'s protocol on `socket`; nil if none can be made
  /// (the socket is then still the caller's to close).
  private func connection(_ socket: Socket, id: UInt64, peer: SocketAddress?, served: ServiceListener)
    -> (ProtocolConnection & EventHandler)?
  {
    if peer?.isInternet == true {
      do { try socket.setNoDelay() } catch {
        logger.debug("TCP_NODELAY refused", metadata: ["searchd_error": "\(error)"])
      }
    }
    let now = context.now
    let state = ConnectionState(limits: context.limits, now: now)
    let conn: ProtocolConnection & EventHandler
    switch served.service {
    case .app:
      conn = ConnectionDriver(state, services: search, transport: socket, id: id, context: context, peer: peer)
    case .echo:
      conn = ConnectionDriver(
        EchoState(limits: context.limits, now: now), services: (), transport: socket, id: id, context: context,
        peer: peer)
    case .admin:
      let exchange = AdminExchange(deadline: now + context.limits.requestTimeout.nanoseconds, answer: admin.answer)
      conn = ConnectionDriver(exchange, services: (), transport: socket, id: id, context: context, peer: peer)
    case .appTLS:
      do {
        // Server refuses to start with a TLS listener and no TLS context.
        let transport = try TLSTransport(socket: socket, tls: tls!, id: id, peer: peer, now: now)
        conn = ConnectionDriver(state, services: search, transport: transport, id: id, context: context, peer: peer)
      } catch {
        logger.error("cannot start a TLS session", metadata: ["searchd_error": "\(error)"])
        return nil
      }
    }
    return conn
  }

  /// Hands a new connection to the registry; if the loop cannot watch it, it is logged and
  /// closed, and false says the caller has nothing left to do.
  private func register(_ conn: ServedConnection & EventHandler, socket: Socket, on served: ServiceListener) -> Bool {
    do {
      try registry.add(conn, on: served)
      return true
    } catch {
      logger.error("cannot watch a new connection", metadata: ["searchd_error": "\(error)"])
      socket.close()
      return false
    }
  }

  private func logAccepted(_ id: UInt64, peer: SocketAddress?, served: ServiceListener) {
    guard logger.logLevel <= .debug else { return }
    logger.debug(
      "connection accepted",
      metadata: [
        "searchd_connection": "\(id)", "searchd_listener": "\(served.listener)",
        "searchd_peer": "\(peer.map(String.init(describing:)) ?? "?")", "searchd_service": "\(served.service.rawValue)",
      ])
  }
}
