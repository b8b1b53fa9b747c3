import ArgumentParser
import Foundation
import SearchdVersion

@main
struct SearchCtl: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "searchctl",
    abstract: "Talk to searchd (or any server of the tutorial's protocol).",
    discussion: """
      Exit status: 0 found (or the request succeeded), 1 no match, 2 cannot connect or timed out, 3 the server replied with an error, 64 usage error.

      SEARCHD_HOST and SEARCHD_PORT set the default server.
      """,
    version: SearchdVersion.current,
    subcommands: [Search.self, Binary.self, Echo.self, Status.self, Bench.self])
}

/// Ends the process with a status, after the message (if any) went to stderr.
func exitWith(_ status: ExitStatus, _ message: String? = nil) -> Never {
  if let message { printErr("searchctl: \(message)") }
  Foundation.exit(status.rawValue)
}
