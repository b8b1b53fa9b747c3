import ArgumentParser
import Foundation
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

      Exit status: 0 after a clean stop, 1 cannot start (address in use, bad index…), 64 bad options, 78 bad config file.
      """,
    version: SearchdVersion.current)

  @Option(help: ArgumentHelp("Read settings from FILE (`key = value` lines).", valueName: "file"))
  var config: String?

  @OptionGroup var flags: SettingFlags

  func validate() throws {
    // Flags alone must already make sense; merged with the file they are checked again in run().
    do { _ = try Settings.resolve(flags.given) } catch { throw ValidationError(error.description) }
  }

  func run() throws {
    Socket.mustBeClosedBeforeDrop = true
    // Block the signals before any thread exists, so only the signalfd ever sees them.
    let signals: SignalFD
    do { signals = try SignalFD(ProcessSignal.allCases) } catch {
      Startup.fail("cannot set up signal handling: \(error)")
    }
    SignalFD.ignoreBrokenPipe()
    let settings = readSettings()
    let logger = Startup.logger(settings)
    // SIGHUP re-reads the file, so a changed `index =` or certificate takes effect; a flag still wins.
    let command = self
    let settingsSource: @Sendable () throws -> ServerConfig = {
      try Settings.resolve(command.flags.merged(over: try command.readConfigFile()))
    }
    do {
      let listeners = try ListenerSet.open(settings)
      // Handed straight to the loops: a reference kept here would keep a reloaded-away
      // index mapped until exit.
      let server = try Server(
        config: settings, table: Startup.loadIndex(settings, logger: logger), listeners: listeners, signals: signals,
        logger: logger, tls: Startup.tlsContext(settings), settingsSource: settingsSource)
      try server.run()
    } catch {
      Startup.fail(error.description)
    }
  }

  /// Flags over the config file over the defaults; a bad file or a bad combination stops
  /// the start with EX_CONFIG.
  private func readSettings() -> ServerConfig {
    do {
      return try Settings.resolve(flags.merged(over: try readConfigFile()))
    } catch let problem as ConfigFile.Problem {
      Startup.fail(problem.description, status: 78)
    } catch {
      Startup.fail("\(config ?? "settings"): \(error)", status: 78)
    }
  }

  private func readConfigFile() throws(ConfigFile.Problem) -> ConfigFile {
    guard let config else { return ConfigFile() }
    // A missing default file is normal: every setting has a default.
    if !FileManager.default.fileExists(atPath: config) { return ConfigFile() }
    return try ConfigFile(path: config)
  }
}
