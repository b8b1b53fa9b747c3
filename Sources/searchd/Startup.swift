import Foundation
import Logging
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

  static func loadIndex(_ config: ServerConfig, logger: Logger) -> LookupTable {
    guard let path = config.indexPath else { return .builtIn }
    do {
      return try LookupTable.load(path: path)
    } catch {
      fail(error.description)
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
