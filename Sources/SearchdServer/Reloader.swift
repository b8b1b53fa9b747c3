import Foundation
import Logging
import SearchdIndex
import SearchdSystem
import SearchdTLS

/// SIGHUP: re-reads the settings, the index and the TLS certificates off the event loops
/// and hands each over whole. A bad file leaves the old one serving.
final class Reloader: Sendable {
  private let settingsSource: @Sendable () throws -> ServerConfig
  private let reloadsTLS: Bool
  private let logger: Logger

  init(settingsSource: @escaping @Sendable () throws -> ServerConfig, reloadsTLS: Bool, logger: Logger) {
    self.settingsSource = settingsSource
    self.reloadsTLS = reloadsTLS
    self.logger = logger
  }

  func reload(
    installTable: @escaping @Sendable (LookupTable) -> Void,
    installTLS: @escaping @Sendable (TLSContext, TLSSettings) -> Void
  ) {
    Systemd.notify("RELOADING=1\nMONOTONIC_USEC=\(MonotonicClock.microseconds())")
    Thread.detachNewThread { [self] in
      defer { Systemd.notify("READY=1") }
      let config: ServerConfig
      do {
        config = try settingsSource()
      } catch {
        logger.error(
          "reload failed: the config file is not valid, the old index and certificates go on serving: \(error)",
          metadata: ["message_id": "\(MessageID.reloadFailed)"])
        return
      }
      reloadIndex(config.indexPath, install: installTable)
      if reloadsTLS { reloadTLS(config.tls, install: installTLS) }
    }
  }

  private func reloadIndex(_ path: String?, install: (LookupTable) -> Void) {
    guard let path else {
      install(.builtIn)
      logger.info("reloaded: serving the built-in index", metadata: ["message_id": "\(MessageID.reload)"])
      return
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
    } catch {
      logger.error(
        "reload failed, the old index goes on serving: \(error)",
        metadata: ["message_id": "\(MessageID.reloadFailed)", "searchd_index": "\(path)"])
    }
  }

  /// New handshakes get the new context; established sessions keep theirs.
  private func reloadTLS(_ settings: TLSSettings, install: (TLSContext, TLSSettings) -> Void) {
    do {
      install(try settings.makeContext(), settings)
      logger.info(
        "reloaded the TLS certificate", metadata: ["message_id": "\(MessageID.tlsReload)"])
    } catch {
      logger.error(
        "TLS reload failed, the old certificate goes on serving: \(error.detailed)",
        metadata: ["message_id": "\(MessageID.tlsReloadFailed)"])
    }
  }
}
