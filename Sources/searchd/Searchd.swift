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
      SIGTERM or SIGINT: stop accepting, answer every request received, exit 0.
      SIGHUP: re-read the index file; a bad file leaves the old index serving.
      """)

  @Option(
    name: .customLong("listen"),
    help: ArgumentHelp(
      "Serve the search protocol on ADDR: HOST:PORT, [IPv6]:PORT or unix:/path. Repeatable; every address a host name resolves to is bound.",
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
  var threads: Int = ProcessInfo.processInfo.activeProcessorCount

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel: String = "info"

  @Option(help: "Where logs go: auto (journald when stderr is connected to it), journal, stderr.")
  var logTarget: String = "auto"

  @Option(help: "Most connections served at once; the excess get a too-many-connections reply.")
  var maxConnections: Int = 1024

  @Option(help: "Largest JSON header accepted, in bytes (at most 65535).")
  var maxHeaderBytes: Int = 4096

  @Option(help: "Largest content accepted, in bytes.")
  var maxContentLength: Int = 1_048_576

  @Option(help: "Seconds a connection may sit with no request in progress before it is closed (0: never).")
  var idleTimeout: Double = 60

  @Option(help: "Seconds from a request's first byte to its last before it is refused with a timeout.")
  var requestTimeout: Double = 10

  @Option(help: "Seconds a reply may wait for a peer that does not read before the connection is closed.")
  var sendTimeout: Double = 30

  @Option(help: "Backlog of connections waiting to be accepted (the kernel caps it at somaxconn).")
  var listenBacklog: Int32 = 511

  func validate() throws {
    guard threads >= 1 && threads <= 1024 else { throw ValidationError("--threads must be from 1 to 1024") }
    guard Logger.Level(rawValue: logLevel) != nil else {
      throw ValidationError("--log-level must be one of: trace, debug, info, notice, warning, error, critical")
    }
    guard ["auto", "journal", "stderr"].contains(logTarget) else {
      throw ValidationError("--log-target must be auto, journal or stderr")
    }
    guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
    guard (1...65535).contains(maxHeaderBytes) else {
      throw ValidationError("--max-header-bytes must be from 1 to 65535")
    }
    guard maxContentLength >= 0 else { throw ValidationError("--max-content-length must not be negative") }
    for (name, v) in [
      ("--idle-timeout", idleTimeout), ("--request-timeout", requestTimeout), ("--send-timeout", sendTimeout),
    ]
    where !(v >= 0 && v < 1e9) {
      throw ValidationError("\(name) must be a number of seconds, 0 or more")
    }
    for a in listen + echoListen {
      do { _ = try Endpoint(parsing: a) } catch { throw ValidationError("bad address: \(error)") }
    }
  }

  func run() throws {
    // Block the signals before any thread exists, so only the signalfd ever sees them.
    let signals: SignalFD
    do { signals = try SignalFD(ProcessSignal.allCases) } catch { fail("cannot set up signal handling: \(error)") }
    SignalFD.ignoreBrokenPipe()

    let logger = makeLogger()
    let config = makeConfig()

    let start = MonotonicClock.nanoseconds()
    let searchIndex: SearchIndex
    if let path = config.indexPath {
      do { searchIndex = try SearchIndex.load(path: path) } catch { fail(error.description) }
    } else {
      searchIndex = .builtIn
    }
    let catalog = Catalog(index: searchIndex, buildNanoseconds: MonotonicClock.nanoseconds() - start)

    do {
      let listeners = try ListenerSet.open(config)
      let server = try Server(config: config, catalog: catalog, listeners: listeners, signals: signals, logger: logger)
      try server.run()
    } catch {
      fail(error.description)
    }
  }

  private func makeConfig() -> ServerConfig {
    var c = ServerConfig()
    // validate() has parsed every address already.
    if !listen.isEmpty { c.listen = listen.map { try! Endpoint(parsing: $0) } }
    c.echoListen = echoListen.map { try! Endpoint(parsing: $0) }
    c.threads = threads
    c.indexPath = index
    c.maxConnections = maxConnections
    c.listenBacklog = listenBacklog
    c.wire = WireLimits(maxHeaderBytes: maxHeaderBytes, maxContentLength: maxContentLength)
    c.connection.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
    c.connection.requestTimeout = .milliseconds(Int64(requestTimeout * 1000))
    c.connection.sendTimeout = .milliseconds(Int64(sendTimeout * 1000))
    return c
  }

  private func makeLogger() -> Logger {
    let level = Logger.Level(rawValue: logLevel)!
    let journal = logTarget == "journal" || (logTarget == "auto" && Systemd.stderrIsJournal())
    LoggingSystem.bootstrap { label in
      var h: LogHandler = journal ? JournalLogHandler() : StreamLogHandler.standardError(label: label)
      h.logLevel = level
      return h
    }
    return Logger(label: "searchd")
  }

  /// Start-up failures go to stderr, which systemd also routes to the journal.
  private func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("searchd: \(message)\n".utf8))
    Foundation.exit(1)
  }
}
