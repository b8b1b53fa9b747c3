import Foundation
import Logging
import SearchdIndex
import SearchdSystem

/// SIGHUP: re-reads the index off the event loops and hands the new catalog over
/// whole. A bad file leaves the old index serving.
final class Reloader: Sendable {
  private let indexPath: String?
  private let logger: Logger

  init(indexPath: String?, logger: Logger) {
    self.indexPath = indexPath
    self.logger = logger
  }

  func reload(install: @escaping @Sendable (Catalog) -> Void) {
    Systemd.notify("RELOADING=1\nMONOTONIC_USEC=\(MonotonicClock.microseconds())")
    let path = indexPath
    let logger = logger
    Thread.detachNewThread {
      defer { Systemd.notify("READY=1") }
      guard let path else {
        logger.info("reload: the built-in index has nothing to re-read")
        return
      }
      let start = MonotonicClock.nanoseconds()
      do {
        let index = try SearchIndex.load(path: path)
        install(Catalog(index: index, buildNanoseconds: MonotonicClock.nanoseconds() - start))
        logger.info(
          "reloaded the index", metadata: ["searchd_index": "\(path)", "searchd_index_entries": "\(index.count)"])
      } catch {
        logger.error("reload failed, the old index goes on serving: \(error)", metadata: ["searchd_index": "\(path)"])
      }
    }
  }
}
