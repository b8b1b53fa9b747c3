import Logging
import SearchdConfig
import SearchdIndex
import SearchdLoop
import SearchdSystem
import SearchdTLS
import SearchdWire

/// One event loop's share of the server: its acceptors (which hand sockets to its
/// `ConnectionFactory`), its connections (through their context and registry), the
/// deadline sweep, the drain and the index and TLS swaps. It owns all of these, and so
/// outlives every connection on its loop. Confined to its loop's thread; other threads
/// reach it only through `loop.execute`, hence @unchecked Sendable.
final class LoopWorker: @unchecked Sendable {
  let loop: EventLoop
  let number: Int
  private let shared: SharedState
  private let logger: Logger
  private let context: ConnectionContext
  private let search: SearchServing
  private let registry: ConnectionRegistry
  /// This loop's share of TLS, when TLS is configured.
  private let tls: TLSLoop?
  private let factory: ConnectionFactory
  private var acceptors: [Acceptor] = []
  private var draining = false
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
    loop = try EventLoop(backend: shared.backend)
    registry = ConnectionRegistry(loop: loop, stats: shared.stats, loopStats: shared.loopStats[number])
    let handler = RequestHandler(
      table: table, limits: shared.config.wire, counters: shared.stats.requestCounters[number], statsReport: statsReport
    )
    context = ConnectionContext(
      loop: loop, limits: shared.config.connection, stats: shared.stats, counters: handler.counters, logger: l,
      registry: registry)
    search = SearchServing(
      handler: handler, latency: shared.stats.latencies[number], logsRequests: l.logLevel <= .debug)
    tls = shared.tls.map { TLSLoop(context: $0, settings: shared.config.tls, stats: shared.stats, logger: l) }
    let admin = AdminRoutes(metrics: shared.metrics, loopStats: shared.loopStats) { [search] in search.table }
    factory = ConnectionFactory(
      shared: shared, context: context, search: search, registry: registry, tls: tls, admin: admin, logger: l)
    // Turning from now: its thread may start after the ready line, and /healthz must not
    // call it stuck meanwhile (it once did, under load, on a fresh daemon).
    shared.loopStats[number].lastSweep.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
  }

  /// The index this loop serves now.
  var table: LookupTable { search.table }

  /// Starts accepting and the deadline sweep. Runs on the loop's thread.
  func start() throws(SystemError) {
    acceptors = shared.listeners.map { served in
      Acceptor(served: served, loop: loop, shared: shared, spare: spare, logger: logger) {
        [factory] socket, peer in factory.adopt(socket, peer: peer, served: served)
      }
    }
    for a in acceptors { try a.start() }
    shared.loopStats[number].lastSweep.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
    // Deadlines are coarse (seconds), so one sweep a quarter second beats a timer per connection.
    loop.scheduleRepeating(everyNanoseconds: 250_000_000) { [unowned self] in self.sweep() }
  }

  private func sweep() {
    let now = loop.now
    shared.loopStats[number].lastSweep.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
    for conn in registry.all { conn.sweep(now: now) }
  }

  /// Stops accepting for good.
  func stopAccepting() {
    for a in acceptors { a.retire() }
  }

  /// Once every loop has stopped accepting (`Server.drain`): let every connection answer
  /// what it has received, and stop the loop once the last one has closed (or the grace
  /// period is over).
  func beginDrain() {
    guard !draining else { return }
    draining = true
    for conn in registry.all { conn.drain() }
    registry.notifyWhenEmpty { [loop] in loop.stop() }
    loop.schedule(afterNanoseconds: shared.config.shutdownGrace.nanoseconds) { [unowned self] in
      for conn in self.registry.all { conn.forceClose() }
      self.loop.stop()
    }
  }

  func replaceTable(_ table: LookupTable) {
    search.replaceTable(table)
  }

  /// A reload's TLS context, for handshakes from now on.
  func replaceTLS(_ context: TLSContext, settings: TLSSettings) {
    tls?.replace(context, settings: settings)
  }
}
