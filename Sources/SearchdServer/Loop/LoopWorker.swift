import Logging
import SearchdConfig
import SearchdIndex
import SearchdLoop
import SearchdSystem
import SearchdTLS
import SearchdWire

/// One event loop's share of the server: its acceptors, its connections (through their
/// context and registry), the deadline sweep, the drain and the index swap. Confined to
/// its loop's thread; other threads reach it only through `loop.execute`, hence
/// @unchecked Sendable.
final class LoopWorker: ProxyPreambleDelegate, @unchecked Sendable {
  let loop: EventLoop
  let number: Int
  private let shared: SharedState
  private let logger: Logger
  private let context: ConnectionContext
  private let registry: ConnectionRegistry
  /// This loop's share of TLS, when TLS is configured.
  private let tls: TLSLoop?
  private var admin: AdminRoutes!
  private var acceptors: [Acceptor] = []
  private var draining = false
  private var proxyLog = RateLimitedLog<ProxyFailure>()
  /// Held in reserve for the EMFILE defence (see Acceptor).
  private let spare = SpareDescriptor()

  init(
    number: Int, shared: SharedState, table: LookupTable, logger: Logger,
    statsReport: @escaping @Sendable (LookupTable) -> [UInt8]
  ) throws(SystemError) {
    self.number = number
    self.shared = shared
    var l = logger
    l[metadataKey: "searchd_loop"] = "\(number)"
    self.logger = l
    loop = try EventLoop()
    registry = ConnectionRegistry(loop: loop, stats: shared.stats, loopStats: shared.loopStats[number])
    let handler = RequestHandler(
      table: table, limits: shared.config.wire, counters: shared.stats.requestCounters[number], statsReport: statsReport
    )
    context = ConnectionContext(
      loop: loop, wire: shared.config.wire, limits: shared.config.connection, stats: shared.stats, logger: l,
      handler: handler, latency: shared.stats.latencies[number], registry: registry)
    tls = shared.tls.map { TLSLoop(context: $0, settings: shared.config.tls, stats: shared.stats, logger: l) }
    admin = AdminRoutes(metrics: shared.metrics, loopStats: shared.loopStats) { [unowned self] in context.table }
    // Turning from now: its thread may start after the ready line, and /healthz must not
    // call it stuck meanwhile (it once did, under load, on a fresh daemon).
    shared.loopStats[number].lastSweep.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
  }

  /// The index this loop serves now.
  var table: LookupTable { context.table }

  /// Starts accepting and the deadline sweep. Runs on the loop's thread.
  func start() throws(SystemError) {
    acceptors = shared.listeners.map { served in
      Acceptor(served: served, loop: loop, shared: shared, spare: spare, logger: logger) {
        [unowned self] socket, peer in self.adopt(socket, peer: peer, served: served)
      }
    }
    for a in acceptors { try a.start() }
    shared.loopStats[number].lastSweep.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
    // Deadlines are coarse (seconds), so one sweep a quarter second beats a timer per connection.
    loop.scheduleRepeating(everyNanoseconds: 250_000_000) { [unowned self] in self.sweep() }
  }

  /// A new connection: served at once, or first its PROXY header read.
  private func adopt(_ socket: Socket, peer: SocketAddress?, served: ServiceListener) {
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
      deadline: loop.now + shared.config.connection.requestTimeout.nanoseconds, allowLocal: proxy.allowLocal,
      delegate: self)
    do {
      try registry.add(preamble, on: served)
    } catch {
      logger.error("cannot watch a new connection", metadata: ["searchd_error": "\(error)"])
      socket.close()
      return
    }
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
    proxyLog.report(failure, now: loop.now) { suppressed in
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
    do {
      try registry.add(conn, on: served)
    } catch {
      logger.error("cannot watch a new connection", metadata: ["searchd_error": "\(error)"])
      socket.close()
      return
    }
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
    let conn: ProtocolConnection & EventHandler
    switch served.service {
    case .app: conn = Connection(transport: socket, id: id, context: context, peer: peer)
    case .echo: conn = EchoConnection(transport: socket, id: id, context: context)
    case .admin: conn = AdminConnection(socket: socket, context: context, routes: admin)
    case .appTLS:
      do {
        // Server refuses to start with a TLS listener and no TLS context.
        let transport = try TLSTransport(socket: socket, tls: tls!, id: id, peer: peer, now: loop.now)
        conn = Connection(transport: transport, id: id, context: context, peer: peer)
      } catch {
        logger.error("cannot start a TLS session", metadata: ["searchd_error": "\(error)"])
        return nil
      }
    }
    return conn
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

  private func sweep() {
    let now = loop.now
    shared.loopStats[number].lastSweep.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
    for conn in registry.all { conn.sweep(now: now) }
  }

  /// Stop accepting, let every connection answer what it has received, and stop
  /// the loop once the last one has closed (or the grace period is over).
  func beginDrain() {
    guard !draining else { return }
    draining = true
    for a in acceptors { a.retire() }
    for conn in registry.all { conn.drain() }
    registry.notifyWhenEmpty { [loop] in loop.stop() }
    loop.schedule(afterNanoseconds: shared.config.shutdownGrace.nanoseconds) { [unowned self] in
      for conn in self.registry.all { conn.forceClose() }
      self.loop.stop()
    }
  }

  func replaceTable(_ table: LookupTable) {
    context.replaceTable(table)
  }

  /// A reload's TLS context, for handshakes from now on.
  func replaceTLS(_ context: TLSContext, settings: TLSSettings) {
    tls?.replace(context, settings: settings)
  }
}
