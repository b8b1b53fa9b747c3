import Logging
import SearchdLoop
import SearchdSystem
import SearchdWire

/// What every loop shares, read-only.
final class SharedState: Sendable {
  let config: ServerConfig
  let stats: ServerStats
  let listeners: [Listener]
  let maxConnections: Int
  let nextConnectionID: ManagedAtomicCounter
  let loopStats: [LoopStats]

  init(config: ServerConfig, stats: ServerStats, listeners: [Listener]) {
    self.config = config
    self.stats = stats
    self.listeners = listeners
    self.loopStats = (0..<max(1, config.threads)).map { _ in LoopStats() }
    self.maxConnections = config.effectiveMaxConnections
    self.nextConnectionID = ManagedAtomicCounter()
  }
}

/// One event loop's share of the server: its acceptors, its connections, its
/// request handler. Confined to its loop's thread; other threads reach it only
/// through `loop.execute`, hence @unchecked Sendable.
final class LoopWorker: @unchecked Sendable {
  let loop: EventLoop
  let number: Int
  let shared: SharedState
  let logger: Logger
  private(set) var handler: RequestHandler
  /// This loop's request counters (also the handler's).
  let counters: RequestCounters
  private var connections: [Int32: ServedConnection] = [:]
  private var acceptors: [Acceptor] = []
  private(set) var draining = false
  /// Held in reserve for the EMFILE defence (see Acceptor).
  let spare = SpareDescriptor()
  /// Read buffers and output queues lent to connections while they hold bytes.
  var inputs = BufferPool<InputBuffer>()
  /// An output queue grown by a burst of replies is freed rather than kept.
  var outputs = BufferPool<OutputQueue>(largest: 1 << 16)
  private var lastErrorLog: [WireError.Code: UInt64] = [:]
  private var suppressedErrors: [WireError.Code: Int] = [:]

  var loopStats: LoopStats { shared.loopStats[number] }

  init(
    number: Int, shared: SharedState, catalog: Catalog, logger: Logger,
    statsReport: @escaping @Sendable (Catalog) -> [UInt8]
  ) throws(SystemError) {
    self.number = number
    self.shared = shared
    var l = logger
    l[metadataKey: "searchd_loop"] = "\(number)"
    self.logger = l
    loop = try EventLoop()
    counters = shared.stats.loops[number]
    handler = RequestHandler(
      catalog: catalog, limits: shared.config.wire, counters: counters, statsReport: statsReport)
  }

  /// Starts accepting and the deadline sweep. Runs on the loop's thread.
  func start() throws(SystemError) {
    acceptors = shared.listeners.map { Acceptor(listener: $0, worker: self) }
    for a in acceptors { try a.start() }
    // Deadlines are coarse (seconds), so one sweep a quarter second beats a timer per connection.
    loop.scheduleRepeating(everyNanoseconds: 250_000_000) { [unowned self] in self.sweep() }
  }

  func adopt(_ socket: Socket, peer: SocketAddress?, service: Acceptor.Service, listener: Listener) {
    let id = shared.nextConnectionID.next()
    // The loop's logger as it is (no per-connection metadata to allocate): connection
    // lines name the connection themselves.
    let connLogger = logger
    let conn: ServedConnection & EventHandler
    if peer?.isInternet == true { try? socket.setNoDelay() }
    switch service {
    case .app:
      conn = Connection(
        socket: socket, id: id, worker: self, logger: connLogger, trusted: Self.isLocal(peer), peer: peer)
    case .echo: conn = EchoConnection(socket: socket, id: id, worker: self, logger: connLogger)
    }
    do {
      try loop.register(socket.descriptor, events: [.readable, .readHangup], handler: conn)
    } catch {
      logger.error("cannot watch a new connection", metadata: ["searchd_error": "\(error)"])
      socket.close()
      return
    }
    connections[socket.descriptor] = conn
    shared.stats.connectionsCurrent.wrappingIncrement(ordering: .relaxed)
    shared.stats.connectionsTotal.wrappingIncrement(ordering: .relaxed)
    loopStats.connections.wrappingIncrement(ordering: .relaxed)
    loopStats.accepted.wrappingIncrement(ordering: .relaxed)
    if logger.logLevel <= .debug {
      logger.debug(
        "connection accepted",
        metadata: [
          "searchd_connection": "\(id)", "searchd_listener": "\(listener)",
          "searchd_peer": "\(peer.map(String.init(describing:)) ?? "?")",
          "searchd_service": "\(service.rawValue)",
        ])
    }
  }

  /// One exclusive access to the handler for a whole batch of requests: taken per
  /// request, the runtime's access check on a class's stored property cost more than
  /// the index lookup (perf). Nothing `body` calls may touch `handler` again.
  func withHandler<R>(_ body: (inout RequestHandler) -> R) -> R { body(&handler) }

  /// Called by a connection as it closes, before its fd is closed.
  func remove(_ conn: ServedConnection) {
    let fd = conn.socket.descriptor
    loop.deregister(fd, closing: true)
    if connections.removeValue(forKey: fd) != nil {
      shared.stats.connectionsCurrent.wrappingDecrement(ordering: .relaxed)
      loopStats.connections.wrappingDecrement(ordering: .relaxed)
    }
    if draining && connections.isEmpty { loop.stop() }
  }

  /// Counts a bad request and logs it, at most once a second per kind and loop,
  /// so a flood of bad input cannot flood the journal.
  func reportProtocolError(_ error: WireError, connection: UInt64, peer: String) {
    counters.count(error.code)
    let now = loop.now
    if let last = lastErrorLog[error.code], now - last < 1_000_000_000 {
      suppressedErrors[error.code, default: 0] += 1
      return
    }
    lastErrorLog[error.code] = now
    let suppressed = suppressedErrors.removeValue(forKey: error.code) ?? 0
    logger.notice(
      "bad request: \(error.detail)",
      metadata: [
        "searchd_error": "\(error.code.rawValue)", "searchd_connection": "\(connection)", "searchd_peer": "\(peer)",
        "searchd_suppressed": "\(suppressed)",
      ])
  }

  /// Loopback and unix-socket peers are on this machine: admin actions are theirs.
  static func isLocal(_ address: SocketAddress?) -> Bool {
    switch address {
    case .ipv4(let host, _)?: return host.first == 127
    case .ipv6(let host, _, _)?:
      let mapped = host.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
      return host == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] || (mapped && host[12] == 127)
    case .unix?: return true
    case nil: return false
    }
  }

  private func sweep() {
    let now = loop.now
    for conn in Array(connections.values) { conn.sweep(now: now) }
  }

  /// Stop accepting, let every connection answer what it has received, and stop
  /// the loop once the last one has closed (or the grace period is over).
  func beginDrain() {
    guard !draining else { return }
    draining = true
    for a in acceptors { a.stop() }
    for conn in Array(connections.values) { conn.drain() }
    if connections.isEmpty {
      loop.stop()
      return
    }
    loop.schedule(afterNanoseconds: shared.config.shutdownGrace.nanoseconds) { [unowned self] in
      for conn in Array(self.connections.values) { conn.forceClose() }
      self.loop.stop()
    }
  }

  func replaceCatalog(_ catalog: Catalog) {
    handler.catalog = catalog
  }
}
