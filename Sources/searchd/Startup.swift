import Foundation
import Logging
import SearchdConfig
import SearchdIndex
import SearchdServer
import SearchdSystem
import SearchdTLS

/// The steps of a start that are not the server's: logging, the first index, and how a
/// start that cannot go on says so.
enum Startup {
  static func logger(_ config: ServerConfig) -> Logger {
    let journal = config.logTarget == .journal || (config.logTarget == .auto && Systemd.stderrIsJournal())
    let level = config.logLevel
    LoggingSystem.bootstrap { label in
      var h: LogHandler = journal ? JournalLogHandler() : StreamLogHandler.standardError(label: label)
      h.logLevel = level
      return h
    }
    let logger = Logger(label: "searchd")
    logger.info("searchd starting", metadata: ["message_id": "\(MessageID.start)"])
    return logger
  }

  /// The first index, loaded on a thread of its own while this one watches the stop
  /// signals: a load that takes long (a slow disk, a ten-million-key JSON file) ends at
  /// SIGTERM or SIGINT instead of outliving them. A SIGHUP meanwhile is raised again for
  /// the server to act on once it serves.
  static func loadIndex(_ config: ServerConfig, signals: SignalFD, logger: Logger) -> LookupTable {
    guard let path = config.indexPath else { return .builtIn }
    let outcome = Locked<Result<LookupTable, IndexLoadError>?>(nil)
    let done: EventFD
    do { done = try EventFD() } catch { fail("cannot load the index: \(error)") }
    let loader = Thread {
      let result = Result { () throws(IndexLoadError) in try LookupTable.load(path: path) }
      outcome.withLock { $0 = result }
      done.signal()
    }
    loader.name = "searchd-index-load"
    loader.start()
    var hangups = 0
    while outcome.withLock({ $0 == nil }) {
      _ = try? Poll.wait([(signals.descriptor, .readable), (done.descriptor, .readable)], timeoutMs: -1)
      while let signal = try? signals.next() {
        if signal == .hangup {
          hangups += 1
          continue
        }
        logger.notice(
          "stopped while loading the index, before serving",
          metadata: ["message_id": "\(MessageID.stop)", "searchd_signal": "\(signal)", "searchd_index": "\(path)"])
        // The loader thread is still working: no exit handlers may run under it.
        _exit(0)
      }
    }
    if hangups > 0 { kill(getpid(), ProcessSignal.hangup.rawValue) }
    switch outcome.withLock({ $0! }) {
    case .success(let table): return table
    case .failure(let error): fail(error.description, status: error.isNotAFile ? 78 : 1)
    }
  }

  /// The TLS context, when a certificate is configured; a bad file stops the start.
  static func tlsContext(_ config: ServerConfig) -> TLSContext? {
    guard config.tls.certificate != nil else { return nil }
    do {
      return try config.tls.makeContext()
    } catch {
      fail("cannot set up TLS: \(error.detailed)")
    }
  }

  /// Start-up failures go to stderr, which systemd also routes to the journal.
  static func fail(_ message: String, status: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("searchd: \(message)\n".utf8))
    Foundation.exit(status)
  }
}
