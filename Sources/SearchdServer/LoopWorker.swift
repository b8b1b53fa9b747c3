import Logging
import SearchdLoop
import SearchdSystem

/// What every loop shares, read-only.
final class SharedState: Sendable {
  let config: ServerConfig
  let stats: ServerStats
  let listeners: [Listener]
  let maxConnections: Int
  let nextConnectionID: ManagedAtomicCounter

  init(config: ServerConfig, stats: ServerStats, listeners: [Listener]) {
    self.config = config
    self.stats = stats
    self.listeners = listeners
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
  var handler: RequestHandler
  private var connections: [Int32: ServedConnection] = [:]
  private var acceptors: [Acceptor] = []
  private(set) var draining = false

  init(number: Int, shared: SharedState, catalog: Catalog, logger: Logger) throws(SystemError) {
    self.number = number
    self.shared = shared
    var l = logger
    l[metadataKey: "searchd_loop"] = "\(number)"
    self.logger = l
    loop = try EventLoop()
    handler = RequestHandler(catalog: catalog, limits: shared.config.wire, stats: shared.stats)
  }

  /// Starts accepting and the deadline sweep. Runs on the loop's thread.
  func start() throws(SystemError) {
    acceptors = shared.listeners.map { Acceptor(listener: $0, worker: self) }
    for a in acceptors { try a.start() }
    // Deadlines are coarse (seconds), so one sweep a quarter second beats a timer per connection.
    loop.scheduleRepeating(everyNanoseconds: 250_000_000) { [unowned self] in self.sweep() }
  }

  func adopt(_ socket: Socket, service: Acceptor.Service, listener: Listener) {
    let id = shared.nextConnectionID.next()
    var connLogger = logger
    connLogger[metadataKey: "searchd_connection"] = "\(id)"
    let conn: ServedConnection & EventHandler
    switch service {
    case .app: conn = Connection(socket: socket, id: id, worker: self, logger: connLogger)
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
    if logger.logLevel <= .debug {
      logger.debug(
        "connection accepted",
        metadata: [
          "searchd_connection": "\(id)", "searchd_listener": "\(listener)",
          "searchd_peer": "\(socket.peerAddress.map(String.init(describing:)) ?? "?")",
          "searchd_service": "\(service.rawValue)",
        ])
    }
  }

  /// Called by a connection as it closes, before its fd is closed.
  func remove(_ conn: ServedConnection) {
    let fd = conn.socket.descriptor
    loop.deregister(fd)
    if connections.removeValue(forKey: fd) != nil {
      shared.stats.connectionsCurrent.wrappingDecrement(ordering: .relaxed)
    }
    if draining && connections.isEmpty { loop.stop() }
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
