import ArgumentParser
import Foundation
import Logging
import SearchdIndex
import SearchdServer
import SearchdSystem
import SearchdWire

@main
struct Searchd: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "searchd",
    abstract: "Serve the search protocol of the socket-programming tutorial, and an echo service.",
    discussion: """
      searchd answers search and binary requests framed as a 2-byte length, a JSON header and
      content, on 127.0.0.1:65432 unless told otherwise. Under systemd it takes the sockets
      systemd passes (by FileDescriptorName: app, echo), reports readiness and logs to journald.

      Every option can also be set in the config file (--config), one `key = value` a line,
      keys named as the long options without dashes in front (`idle-timeout = 30`); options
      given on the command line win.

      SIGTERM or SIGINT: stop accepting, answer every request received, exit 0.
      SIGHUP: re-read the config file and the index; a bad index leaves the old one serving.

      Exit status: 0 after a clean stop, 1 cannot start (address in use, bad index…),
      64 bad options, 78 bad config file.
      """)

  @Option(help: ArgumentHelp("Read settings from FILE (`key = value` lines).", valueName: "file"))
  var config: String?

  @Option(
    name: .customLong("listen"),
    help: ArgumentHelp(
      "Serve the search protocol on ADDR: HOST:PORT, [IPv6]:PORT or unix:/path. Repeatable; every address a host name resolves to is bound. Default 127.0.0.1:65432.",
      valueName: "addr"))
  var listen: [String] = []

  @Option(
    name: .customLong("echo-listen"),
    help: ArgumentHelp(
      "Serve the echo service on ADDR (same forms as --listen). Repeatable; off unless given.", valueName: "addr"))
  var echoListen: [String] = []

  @Option(
    help: ArgumentHelp(
      "Load the index from FILE, a JSON object of string keys to string values, instead of the built-in one.",
      valueName: "file"))
  var index: String?

  @Option(help: "Event loops, one thread each (default: one per core).")
  var threads: Int?

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: info).")
  var logLevel: String?

  @Option(help: "Where logs go: auto (journald when stderr is connected to it), journal, stderr (default: auto).")
  var logTarget: String?

  @Option(help: "Most connections served at once; the excess get a too-many-connections reply (default: 1024).")
  var maxConnections: Int?

  @Option(help: "Largest JSON header accepted, in bytes, at most 65535 (default: 4096).")
  var maxHeaderBytes: Int?

  @Option(help: "Largest content accepted, in bytes (default: 1048576).")
  var maxContentLength: Int?

  @Option(help: "Seconds a connection may sit with no request in progress before it is closed; 0: never (default: 60).")
  var idleTimeout: Double?

  @Option(help: "Seconds from a request's first byte to its last before it is refused with a timeout (default: 10).")
  var requestTimeout: Double?

  @Option(help: "Seconds a reply may wait for a peer that does not read before the connection closes (default: 30).")
  var sendTimeout: Double?

  @Option(help: "Backlog of connections waiting to be accepted; the kernel caps it at somaxconn (default: 511).")
  var listenBacklog: Int32?

  @Option(
    help: "Connections accepted per listener per loop turn, so a flood cannot starve served clients (default: 16).")
  var acceptsPerWakeup: Int?

  @Option(help: "Bytes asked of each read (default: 65536).")
  var readSize: Int?

  @Option(help: "Reply bytes queued for one peer above which searchd stops reading from it (default: 65536).")
  var outputHighWatermark: Int?

  @Option(help: "Reply bytes queued below which reading resumes (default: 32768).")
  var outputLowWatermark: Int?

  @Option(help: "Requests answered per connection per loop turn before other connections get a turn (default: 20).")
  var requestsPerWakeup: Int?

  @Option(
    help: "Replies queued for one peer and not yet written, above which searchd stops reading from it (default: 64).")
  var maxInFlight: Int?

  @Option(
    help:
      "Reply bytes one connection may have queued; a larger reply is refused with reply-too-large (default: 4194304).")
  var maxOutputBytes: Int?

  @Flag(
    inversion: .prefixedNo,
    help:
      "Close each connection once every request received is answered, as the tutorial's server does (default: no).")
  var closeAfterReply: Bool?

  @Option(help: "Seconds SIGTERM waits for replies to drain before closing what is left (default: 5).")
  var shutdownGrace: Double?

  func validate() throws {
    // Flags alone must already make sense; the merged settings are checked again in run().
    _ = try settings(file: ConfigFile())
  }

  func run() throws {
    // Block the signals before any thread exists, so only the signalfd ever sees them.
    let signals: SignalFD
    do { signals = try SignalFD(ProcessSignal.allCases) } catch { fail("cannot set up signal handling: \(error)") }
    SignalFD.ignoreBrokenPipe()

    let s: Settings
    do {
      s = try settings(file: try readConfigFile())
    } catch let e as ConfigFile.Problem {
      fail(e.description, status: 78)
    } catch {
      fail("\(config ?? "config"): \(error)", status: 78)
    }
    let logger = makeLogger(s)
    logger.info("searchd starting", metadata: ["message_id": "\(MessageID.start)"])

    let start = MonotonicClock.nanoseconds()
    let searchIndex: SearchIndex
    if let path = s.config.indexPath {
      do { searchIndex = try SearchIndex.load(path: path) } catch { fail(error.description) }
    } else {
      searchIndex = .builtIn
    }
    let table = LookupTable(index: searchIndex, buildNanoseconds: MonotonicClock.nanoseconds() - start)

    // SIGHUP re-reads the file, so a changed `index =` takes effect; a flag still wins.
    let command = self
    let indexPathSource: @Sendable () throws -> String? = {
      try command.settings(file: try command.readConfigFile()).config.indexPath
    }
    do {
      let listeners = try ListenerSet.open(s.config)
      let server = try Server(
        config: s.config, table: table, listeners: listeners, signals: signals, logger: logger,
        indexPathSource: indexPathSource)
      try server.run()
    } catch {
      fail(error.description)
    }
  }

  private func readConfigFile() throws(ConfigFile.Problem) -> ConfigFile {
    guard let config else { return ConfigFile() }
    // A missing default file is normal: every setting has a default.
    if !FileManager.default.fileExists(atPath: config) { return ConfigFile() }
    return try ConfigFile(path: config)
  }

  /// Flags over the config file over the defaults.
  struct Settings {
    var config = ServerConfig()
    var logLevel = Logger.Level.info
    var logTarget = "auto"
  }

  private func settings(file: ConfigFile) throws -> Settings {
    var s = Settings()
    func number<T: LosslessStringConvertible>(_ flag: T?, _ key: String) throws -> T? {
      if let flag { return flag }
      guard let text = file.string(key) else { return nil }
      guard let v = T(text) else { throw ValidationError("\(key) must be a number, not \"\(text)\"") }
      return v
    }
    let listenTexts = listen.isEmpty ? file.strings("listen") : listen
    let echoTexts = echoListen.isEmpty ? file.strings("echo-listen") : echoListen
    do {
      if !listenTexts.isEmpty { s.config.listen = try listenTexts.map { try Endpoint(parsing: $0) } }
      s.config.echoListen = try echoTexts.map { try Endpoint(parsing: $0) }
    } catch {
      throw ValidationError("bad address: \(error)")
    }
    s.config.indexPath = index ?? file.string("index")
    s.config.threads = try number(threads, "threads") ?? ProcessInfo.processInfo.activeProcessorCount
    guard (1...1024).contains(s.config.threads) else { throw ValidationError("threads must be from 1 to 1024") }

    let level = logLevel ?? file.string("log-level") ?? "info"
    guard let l = Logger.Level(rawValue: level) else {
      throw ValidationError("log-level must be one of: trace, debug, info, notice, warning, error, critical")
    }
    s.logLevel = l
    s.logTarget = logTarget ?? file.string("log-target") ?? "auto"
    guard ["auto", "journal", "stderr"].contains(s.logTarget) else {
      throw ValidationError("log-target must be auto, journal or stderr")
    }

    /// A count that must be 1 or more.
    func count(_ flag: Int?, _ key: String, _ def: Int) throws -> Int {
      let v = try number(flag, key) ?? def
      guard v >= 1 else { throw ValidationError("\(key) must be at least 1") }
      return v
    }
    s.config.maxConnections = try count(maxConnections, "max-connections", 1024)
    let header = try number(maxHeaderBytes, "max-header-bytes") ?? 4096
    guard (1...65535).contains(header) else { throw ValidationError("max-header-bytes must be from 1 to 65535") }
    let content = try number(maxContentLength, "max-content-length") ?? 1_048_576
    guard content >= 0 else { throw ValidationError("max-content-length must not be negative") }
    s.config.wire = WireLimits(maxHeaderBytes: header, maxContentLength: content)
    s.config.listenBacklog = try number(listenBacklog, "listen-backlog") ?? 511
    s.config.acceptsPerWakeup = try count(acceptsPerWakeup, "accepts-per-wakeup", 16)
    s.config.connection.readChunk = try number(readSize, "read-size") ?? 65_536
    guard (512...(16 << 20)).contains(s.config.connection.readChunk) else {
      throw ValidationError("read-size must be from 512 to 16777216")
    }
    s.config.connection.highWatermark = try number(outputHighWatermark, "output-high-watermark") ?? 65_536
    s.config.connection.lowWatermark = try number(outputLowWatermark, "output-low-watermark") ?? 32_768
    guard s.config.connection.lowWatermark < s.config.connection.highWatermark, s.config.connection.lowWatermark >= 0
    else { throw ValidationError("output-low-watermark must be below output-high-watermark") }
    s.config.connection.requestsPerWakeup = try count(requestsPerWakeup, "requests-per-wakeup", 20)
    s.config.connection.maxInFlight = try count(maxInFlight, "max-in-flight", 64)
    s.config.connection.maxOutputBytes = try number(maxOutputBytes, "max-output-bytes") ?? 4 << 20
    guard s.config.connection.maxOutputBytes >= s.config.connection.highWatermark else {
      throw ValidationError("max-output-bytes must be at least output-high-watermark")
    }

    if let flag = closeAfterReply {
      s.config.connection.closeAfterReply = flag
    } else if let text = file.string("close-after-reply") {
      guard let v = ["yes": true, "true": true, "no": false, "false": false][text] else {
        throw ValidationError("close-after-reply must be yes or no, not \"\(text)\"")
      }
      s.config.connection.closeAfterReply = v
    }

    func seconds(_ flag: Double?, _ key: String, _ def: Double) throws -> Duration {
      let v = try number(flag, key) ?? def
      guard v >= 0 && v < 1e9 else { throw ValidationError("\(key) must be a number of seconds, 0 or more") }
      return .milliseconds(Int64(v * 1000))
    }
    s.config.connection.idleTimeout = try seconds(idleTimeout, "idle-timeout", 60)
    s.config.connection.requestTimeout = try seconds(requestTimeout, "request-timeout", 10)
    s.config.connection.sendTimeout = try seconds(sendTimeout, "send-timeout", 30)
    s.config.shutdownGrace = try seconds(shutdownGrace, "shutdown-grace", 5)
    return s
  }

  private func makeLogger(_ s: Settings) -> Logger {
    let journal = s.logTarget == "journal" || (s.logTarget == "auto" && Systemd.stderrIsJournal())
    let level = s.logLevel
    LoggingSystem.bootstrap { label in
      var h: LogHandler = journal ? JournalLogHandler() : StreamLogHandler.standardError(label: label)
      h.logLevel = level
      return h
    }
    return Logger(label: "searchd")
  }

  /// Start-up failures go to stderr, which systemd also routes to the journal.
  private func fail(_ message: String, status: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("searchd: \(message)\n".utf8))
    Foundation.exit(status)
  }
}
