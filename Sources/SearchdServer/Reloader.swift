import Foundation
import Logging
import SearchdConfig
import SearchdIndex
import SearchdSystem
import SearchdTLS

/// SIGHUP: re-reads the settings, the index and the TLS certificates off the event loops
/// and hands each over whole. A bad file leaves the old one serving. Reloads run one at a
/// time on one thread: a SIGHUP during a reload schedules one more after it, so the last
/// SIGHUP's files are the ones left serving, and two compiles never race to install.
final class Reloader: Sendable {
  struct Installs: Sendable {
    let table: @Sendable (LookupTable) -> Void
    let tls: @Sendable (TLSContext, TLSSettings) -> Void
  }

  private let settingsSource: @Sendable () throws -> ServerConfig
  /// The settings the daemon started with: those a reload cannot apply are compared to it.
  private let running: ServerConfig
  private let reloadsTLS: Bool
  private let stats: ServerStats
  private let logger: Logger
  /// Whether a reload thread is at work, and whether another SIGHUP came meanwhile.
  private let state = Locked((busy: false, again: false))

  init(
    settingsSource: @escaping @Sendable () throws -> ServerConfig, running: ServerConfig, reloadsTLS: Bool,
    stats: ServerStats, logger: Logger
  ) {
    self.settingsSource = settingsSource
    self.running = running
    self.reloadsTLS = reloadsTLS
    self.stats = stats
    self.logger = logger
  }

  func reload(_ installs: Installs) {
    Systemd.notify("RELOADING=1\nMONOTONIC_USEC=\(MonotonicClock.microseconds())")
    let start = state.withLock { s in
      if s.busy { s.again = true } else { s.busy = true }
      return !s.again
    }
    guard start else {
      logger.info("SIGHUP during a reload: another reload follows this one")
      return
    }
    Thread.detachNewThread { [self] in
      repeat {
        let outcome = reloadOnce(installs)
        stats.reloads[outcome.index].wrappingIncrement(ordering: .relaxed)
      } while state.withLock({ s in
        if s.again {
          s.again = false
          return true
        }
        // Inside the lock, so a SIGHUP just after is told RELOADING after this READY.
        Systemd.notify("READY=1")
        s.busy = false
        return false
      })
    }
  }

  /// One reload, start to end; what it applied is logged, and what it could not.
  private func reloadOnce(_ installs: Installs) -> ReloadOutcome {
    let config: ServerConfig
    do {
      config = try settingsSource()
    } catch {
      logger.error(
        "reload failed: \(error); every setting, the index and the certificates stay as they were",
        metadata: ["message_id": "\(MessageID.reloadFailed)"])
      return .configFailed
    }
    let needRestart = Settings.restartOnlyChanges(from: running, to: config)
    if !needRestart.isEmpty {
      logger.warning(
        "reload cannot apply \(needRestart.joined(separator: ", ")): changed, but only a restart applies it",
        metadata: [
          "message_id": "\(MessageID.reloadNeedsRestart)", "searchd_settings": "\(needRestart.joined(separator: ","))",
        ])
    }
    if !reloadIndex(config.indexPath, install: installs.table) { return .indexFailed }
    if reloadsTLS && !reloadTLS(config.tls, install: installs.tls) { return .tlsFailed }
    return .applied
  }

  private func reloadIndex(_ path: String?, install: (LookupTable) -> Void) -> Bool {
    guard let path else {
      install(.builtIn)
      logger.info(
        "reloaded: no index is configured, serving the built-in index",
        metadata: ["message_id": "\(MessageID.reload)", "searchd_index": "built-in"])
      return true
    }
    do {
      let table = try LookupTable.load(path: path)
      install(table)
      logger.info(
        "reloaded the index",
        metadata: [
          "message_id": "\(MessageID.reload)", "searchd_index": "\(path)", "searchd_index_entries": "\(table.count)",
          "searchd_index_format": "\(table.format.rawValue)",
        ])
      return true
    } catch {
      logger.error(
        "reload failed, the old index goes on serving: \(error)",
        metadata: ["message_id": "\(MessageID.reloadFailed)", "searchd_index": "\(path)"])
      return false
    }
  }

  /// New handshakes get the new context; established sessions keep theirs.
  private func reloadTLS(_ settings: TLSSettings, install: (TLSContext, TLSSettings) -> Void) -> Bool {
    do {
      install(try settings.makeContext(), settings)
      logger.info(
        "reloaded the TLS certificate",
        metadata: ["message_id": "\(MessageID.tlsReload)", "searchd_certificate": "\(settings.certificate ?? "")"])
      return true
    } catch {
      logger.error(
        "TLS reload failed, the old certificate goes on serving: \(error.detailed)",
        metadata: [
          "message_id": "\(MessageID.tlsReloadFailed)", "searchd_certificate": "\(settings.certificate ?? "")",
        ])
      return false
    }
  }
}
