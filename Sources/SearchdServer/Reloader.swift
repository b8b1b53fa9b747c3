import Foundation
import Logging
import SearchdIndex
import SearchdSystem

/// SIGHUP: re-reads the index off the event loops and hands the new table over
/// whole. A bad file leaves the old index serving.
final class Reloader: Sendable {
  private let indexPathSource: @Sendable () throws -> String?
  private let logger: Logger

  init(indexPathSource: @escaping @Sendable () throws -> String?, logger: Logger) {
    self.indexPathSource = indexPathSource
    self.logger = logger
  }

  func reload(install: @escaping @Sendable (LookupTable) -> Void) {
    Systemd.notify("RELOADING=1\nMONOTONIC_USEC=\(MonotonicClock.microseconds())")
    let source = indexPathSource
    let logger = logger
    Thread.detachNewThread {
      defer { Systemd.notify("READY=1") }
      let path: String?
      do {
        path = try source()
      } catch {
        logger.error(
          "reload failed: the config file is not valid, the old index goes on serving: \(error)",
          metadata: ["message_id": "\(MessageID.reloadFailed)"])
        return
      }
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
  }
}
