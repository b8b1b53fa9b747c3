import Atomics
import Foundation
import Logging
import SearchdConfig
import SearchdIndex
import SearchdLoop
import SearchdSystem
import SearchdTLS

/// The daemon: one event loop per thread, each accepting on every listener and
/// owning its connections; signals, reload and systemd notifications on loop 0.
public final class Server: @unchecked Sendable {
  // @unchecked: `workers` is written once before any thread starts; the rest is immutable.
  public let config: ServerConfig
  public let stats: ServerStats
  private let logger: Logger
  private let listeners: [ServiceListener]
  private var workers: [LoopWorker] = []
  private let signals: SignalFD
  private let reloader: Reloader
  private let indexWatch: IndexFileWatch

  /// `signals` must have been created before any other thread started. `tls` serves the
  /// TLS listeners. `settingsSource` gives a reload the settings to apply (re-reading the
  /// config file); without it a reload re-reads the index and certificates `config` names.
  /// The server owns `listeners` from here: a start that fails closes them.
  public init(
    config: ServerConfig, table: LookupTable, listeners: [ServiceListener], signals: SignalFD, logger: Logger,
    tls: TLSContext? = nil, settingsSource: (@Sendable () throws -> ServerConfig)? = nil
  ) throws(ServerError) {
    var made = false
    defer { if !made { for l in listeners { l.listener.close() } } }
    if tls == nil, let plain = listeners.first(where: { $0.service == .appTLS }) {
      throw .tlsNotConfigured(plain.listener)
    }
    self.config = config
    self.logger = logger
    self.listeners = listeners
    self.signals = signals
    stats = ServerStats(startedAt: MonotonicClock.nanoseconds(), loopCount: max(1, config.threads))
    stats.indexLoadedAt.store(time(nil), ordering: .relaxed)
    let backend = try IOBackend.resolve(config.ioBackend, logger: logger)
    let shared = SharedState(config: config, stats: stats, listeners: listeners, tls: tls, backend: backend)
    let report = StatsReport(
      stats: stats, loopStats: shared.loopStats, listeners: listeners, backend: backend.rawValue)
    do {
      for n in 0..<max(1, config.threads) {
        workers.append(
          try LoopWorker(number: n, shared: shared, table: table, logger: logger, statsReport: report.render))
      }
    } catch {
      throw .loop(error)
    }
    reloader = Reloader(
      settingsSource: settingsSource ?? { config }, running: config, reloadsTLS: tls != nil, stats: stats,
      logger: logger)
    indexWatch = IndexFileWatch(loop: workers[0].loop, stats: stats, logger: logger)
    made = true
  }

  /// Serves until SIGTERM or SIGINT, then drains and returns.
  public func run() throws(ServerError) {
    let main = workers[0]
    do {
      try main.loop.register(
        signals.descriptor, interest: .readable,
        handler: ClosureHandler { [unowned self] _ in
          self.handleSignals()
        })
    } catch {
      throw .loop(error)
    }
    let threads = workers.dropFirst().map { worker in
      LoopThread(name: "searchd-loop-\(worker.number)") { [logger] in
        do {
          try worker.start()
          try worker.loop.run()
        } catch {
          logger.critical("event loop \(worker.number) failed: \(error)")
          exit(1)
        }
      }
    }
    do { try main.start() } catch { throw .loop(error) }
    indexWatch.follow(main.table)
    // Ready before the ready line and READY=1, so whoever waits for either finds /readyz 200.
    stats.ready.store(true, ordering: .relaxed)
    logger.info(
      "searchd ready",
      metadata: [
        "message_id": "\(MessageID.ready)",
        "searchd_listeners": "\(listeners.map(\.description).joined(separator: " "))",
        "searchd_threads": "\(workers.count)", "searchd_index_entries": "\(main.table.count)",
        "searchd_io_backend": "\(workers[0].loop.backend.rawValue)",
      ])
    Systemd.notify("READY=1\nSTATUS=\(statusLine())")
    main.loop.scheduleRepeating(everyNanoseconds: 5_000_000_000) { [unowned self] in
      Systemd.notify("STATUS=\(self.statusLine())")
    }
    Watchdog(loops: workers.map(\.loop)).start(on: main.loop)
    do { try main.loop.run() } catch { throw .loop(error) }
    for t in threads { t.join() }
    for l in listeners { l.listener.close() }
    logger.info(
      "searchd stopped",
      metadata: ["message_id": "\(MessageID.stop)", "searchd_requests": "\(stats.requestsServed)"])
  }

  private func handleSignals() {
    while true {
      let signal: ProcessSignal
      do {
        guard let next = try signals.next() else { return }
        signal = next
      } catch {
        // The signalfd is level-triggered: an error that persists would spin, so say so.
        logger.error("cannot read the signal queue", metadata: ["searchd_error": "\(error)"])
        return
      }
      switch signal {
      case .terminate, .interrupt:
        // /readyz turns 503 at once; a balancer polling it takes this replica out during
        // drain-delay, while everything is still served. A second signal does not wait.
        let first = stats.ready.exchange(false, ordering: .relaxed)
        let delay = config.drainDelay.nanoseconds
        logger.info(
          "stopping: answering the requests received, then exiting",
          metadata: ["searchd_signal": "\(signal)", "searchd_drain_delay": "\(config.drainDelay.settingText)"])
        Systemd.notify("STOPPING=1")
        let drain = { [workers] in Self.drain(workers) }
        if first && delay > 0 {
          workers[0].loop.schedule(afterNanoseconds: delay, drain)
        } else {
          drain()
        }
      case .hangup:
        reloader.reload(
          Reloader.Installs(
            table: { [workers, stats, indexWatch] table in
              stats.indexLoadedAt.store(time(nil), ordering: .relaxed)
              stats.indexFileModified.store(false, ordering: .relaxed)
              for w in workers { w.loop.execute { w.replaceTable(table) } }
              workers[0].loop.execute { indexWatch.follow(table) }
            },
            tls: { [workers] context, settings in
              for w in workers { w.loop.execute { w.replaceTLS(context, settings: settings) } }
            }))
      }
    }
  }

  /// Every loop stops accepting, and only then does any close its idle connections: a
  /// client whose connection a drain closes reconnects into the backlog, which the next
  /// process (under systemd, the same sockets) serves, never into a loop about to drain.
  private static func drain(_ workers: [LoopWorker]) {
    let stopped = ManagedAtomic<Int>(0)
    for w in workers {
      w.loop.execute {
        w.stopAccepting()
        guard stopped.wrappingIncrementThenLoad(ordering: .acquiringAndReleasing) == workers.count else { return }
        for w in workers { w.loop.execute { w.beginDrain() } }
      }
    }
  }

  func statusLine() -> String {
    "\(stats.connectionsCurrent.load(ordering: .relaxed)) connections, "
      + "\(stats.requestsServed) requests served, \(workers[0].table.count) index entries"
  }
}
