import ArgumentParser
import Foundation
import SearchdConfig
import SearchdServer
import SearchdSystem
import SearchdVersion

@main
struct Searchd: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "searchd",
    abstract: "Serve the search protocol of the socket-programming tutorial, and an echo service.",
    discussion: """
      searchd answers search and binary requests framed as a 2-byte length, a JSON header and content, on 127.0.0.1:65432 unless told otherwise. Under systemd it takes the sockets systemd passes (by FileDescriptorName: app, echo), reports readiness and logs to journald.

      Every option can also be set in the config file (--config), one `key = value` a line, keys named as the long options without dashes in front (`idle-timeout = 30`); options given on the command line win.

      SIGTERM or SIGINT: stop accepting, answer every request received, exit 0. SIGHUP: re-read the config file and the index; a bad index leaves the old one serving.

      Exit status: 0 after a clean stop, 1 cannot start (address in use, bad index…), 64 a bad option value, 78 a bad config file, settings that do not go together, or an index that is not a regular file.
      """,
    version: SearchdVersion.current)

  @Option(help: ArgumentHelp("Read settings from FILE (`key = value` lines).", valueName: "file"))
  var config: String?

  @OptionGroup var flags: SettingFlags

  func validate() throws {
    // Each flag's value must already make sense (a usage error, 64); how settings go
    // together is checked in run(), once merged with the file (a configuration error, 78).
    do { _ = try Settings.parse(flags.given) } catch { throw ValidationError(error.description) }
  }

  func run() throws {
    Socket.mustBeClosedBeforeDrop = true
    // Block the signals before any thread exists, so only the signalfd ever sees them.
    let signals: SignalFD
    do { signals = try SignalFD(ProcessSignal.allCases) } catch {
      Startup.fail("cannot set up signal handling: \(error)")
    }
    SignalFD.ignoreBrokenPipe()
    // Only the shipped default file may be absent, and only if it was absent at start: a
    // reload that finds a file gone keeps everything (the reloader says so).
    let mayBeAbsent = config == ConfigFile.shippedPath && !ConfigFile.exists(ConfigFile.shippedPath)
    let settings = readSettings(mayBeAbsent: mayBeAbsent)
    let logger = Startup.logger(settings)
    if mayBeAbsent {
      logger.notice("no config file at \(ConfigFile.shippedPath): serving on the defaults and the options given")
    }
    // SIGHUP re-reads the file, so a changed `index =` or certificate takes effect; a flag still wins.
    let command = self
    let settingsSource: @Sendable () throws -> ServerConfig = {
      try command.resolveSettings(mayBeAbsent: mayBeAbsent)
    }
    do {
      let listeners = try ListenerSet.open(settings)
      // Handed straight to the loops: a reference kept here would keep a reloaded-away
      // index mapped until exit.
      let server = try Server(
        config: settings, table: Startup.loadIndex(settings, signals: signals, logger: logger), listeners: listeners,
        signals: signals, logger: logger, tls: Startup.tlsContext(settings), settingsSource: settingsSource)
      try server.run()
    } catch {
      Startup.fail(error.description, status: error.exitStatus)
    }
  }

  /// Flags over the config file over the defaults; a bad file or a bad combination stops
  /// the start with EX_CONFIG.
  private func readSettings(mayBeAbsent: Bool) -> ServerConfig {
    do { return try resolveSettings(mayBeAbsent: mayBeAbsent) } catch { Startup.fail(error.description, status: 78) }
  }

  /// The file read and merged under the flags, then checked whole; a problem names the
  /// file (and the line, when one line is at fault).
  private func resolveSettings(mayBeAbsent: Bool) throws(ConfigFile.Problem) -> ServerConfig {
    let merged = flags.merged(over: try readConfigFile(mayBeAbsent: mayBeAbsent))
    do { return try Settings.resolve(merged) } catch {
      throw ConfigFile.Problem(path: config ?? "the command line", line: 0, message: error.description)
    }
  }

  private func readConfigFile(mayBeAbsent: Bool) throws(ConfigFile.Problem) -> ConfigFile {
    guard let config else { return ConfigFile() }
    if mayBeAbsent && !ConfigFile.exists(config) { return ConfigFile() }
    return try ConfigFile(path: config)
  }
}
