import Logging
import SearchdConfig
import SearchdLoop
import SearchdSystem
import SearchdTLS
import SearchdWire

/// Makes the connection a socket accepted on a listener is served by: the listener's
/// service decides which (search, TLS, echo, admin), and on a PROXY listener the same
/// connection reads the header first. It registers each with the loop's registry, which
/// owns it from then on. One per loop, owned by its `LoopWorker`.
final class ConnectionFactory {
  private let shared: SharedState
  private let context: ConnectionContext
  private let search: SearchServing
  private let registry: ConnectionRegistry
  private let tls: TLSLoop?
  private let admin: AdminRoutes
  private let logger: Logger

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

  /// A new connection, served from its first byte (on a PROXY listener, the header's).
  func adopt(_ socket: Socket, peer: SocketAddress?, served: ServiceListener) {
    var preamble: ProxyPreamble?
    if served.proxied {
      let proxy = shared.config.proxy
      // An untrusted peer is refused before a byte of it is read.
      guard proxy.trustedFrom.contains(peer) else {
        context.reportProxyFailure(
          .untrusted, detail: "a PROXY listener's peer outside proxy-trusted-from", peer: peer)
        return socket.close()
      }
      preamble = ProxyPreamble(
        socket: socket, served: served, deadline: context.now + shared.config.connection.requestTimeout.nanoseconds,
        allowLocal: proxy.allowLocal)
    }
    let id = shared.nextConnectionID()
    guard let conn = connection(socket, id: id, peer: peer, served: served, preamble: preamble) else {
      return socket.close()
    }
    do {
      try registry.add(conn, on: served)
    } catch {
      logger.error("cannot watch a new connection", metadata: ["searchd_error": "\(error)"])
      return socket.close()
    }
    // A balancer sends the header as it connects: it is usually there by the accept, so
    // it is read now rather than after another trip through the loop. The connection is
    // logged once the header names its client.
    if preamble != nil { return conn.handleEvents(.readable) }
    context.logAccepted(id, peer: peer, served: served)
  }

  /// The connection that serves `served`'s protocol on `socket`; nil if none can be made
  /// (the socket is then still the caller's to close).
  private func connection(
    _ socket: Socket, id: UInt64, peer: SocketAddress?, served: ServiceListener, preamble: ProxyPreamble?
  ) -> (ServedConnection & EventHandler)? {
    if peer?.isInternet == true {
      do { try socket.setNoDelay() } catch {
        logger.debug("TCP_NODELAY refused", metadata: ["searchd_error": "\(error)"])
      }
    }
    let now = context.now
    let state = ConnectionState(limits: context.limits, now: now)
    let conn: ServedConnection & EventHandler
    switch served.service {
    case .app:
      conn = ConnectionDriver(
        state, services: search, transport: socket, id: id, context: context, peer: peer, preamble: preamble)
    case .echo:
      conn = ConnectionDriver(
        EchoState(limits: context.limits, now: now), services: (), transport: socket, id: id, context: context,
        peer: peer, preamble: preamble)
    case .admin:
      let exchange = AdminExchange(deadline: now + context.limits.requestTimeout.nanoseconds, answer: admin.answer)
      conn = ConnectionDriver(
        exchange, services: (), transport: socket, id: id, context: context, peer: peer, preamble: preamble)
    case .appTLS:
      do {
        // Server refuses to start with a TLS listener and no TLS context.
        let transport = try TLSTransport(socket: socket, tls: tls!, id: id, peer: peer, now: now)
        conn = ConnectionDriver(
          state, services: search, transport: transport, id: id, context: context, peer: peer, preamble: preamble)
      } catch {
        logger.error("cannot start a TLS session", metadata: ["searchd_error": "\(error)"])
        return nil
      }
    }
    return conn
  }
}
