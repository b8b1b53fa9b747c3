import Logging
import SearchdIndex
import SearchdLoop
import SearchdSystem

/// Watches the mapped index file for writes into it, on loop 0. Replacing the file by a
/// rename (what the docs ask) is safe; writing into it is not: a truncation takes pages
/// the mapping still points at (the next lookup there is a SIGBUS), a copy over it
/// changes entries under the loops' feet. The moment that happens it is logged, shown in
/// the stats and /metrics, and /readyz turns 503 so a balancer drains the replica; a
/// reload clears it. JSON indexes are compiled into memory, so only compiled ones are watched.
/// Confined to loop 0's thread; others reach it only through `loop.execute`.
final class IndexFileWatch: @unchecked Sendable {
  private let loop: EventLoop
  private let stats: ServerStats
  private let logger: Logger
  private var watch: FileWatch?
  private var path = ""

  init(loop: EventLoop, stats: ServerStats, logger: Logger) {
    self.loop = loop
    self.stats = stats
    self.logger = logger
  }

  /// Watches the file `table` maps, in place of the one watched before. (The reload that
  /// installs a table clears the flag before it says so, so a check after its log line
  /// finds it clear.)
  func follow(_ table: LookupTable) {
    if let old = watch {
      loop.deregister(old.descriptor)
      watch = nil
    }
    guard table.format == .compiled else { return }
    path = table.source
    do {
      let w = try FileWatch(path: path)
      try loop.register(
        w.descriptor, interest: .readable, handler: ClosureHandler { [unowned self] _ in self.changed() })
      watch = w
    } catch {
      logger.warning(
        "cannot watch the index file for writes: \(error)",
        metadata: ["searchd_index": "\(path)", "searchd_error": "\(error)"])
    }
  }

  private func changed() {
    guard let watch, watch.drain() else { return }
    guard !stats.indexFileModified.exchange(true, ordering: .relaxed) else { return }
    logger.error(
      "the index file was written to in place while served: its answers cannot be trusted and a truncation ends searchd at the next lookup it hits; /readyz answers 503. Replace index files by renaming a new file over them, then reload",
      metadata: ["message_id": "\(MessageID.indexFileModified)", "searchd_index": "\(path)"])
  }
}
