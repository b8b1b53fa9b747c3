import ArgumentParser
import Foundation
import SearchdClient
import SearchdVersion
import SearchdWire

@main
struct SearchCtl: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "searchctl",
    abstract: "Talk to searchd (or any server of the tutorial's protocol).",
    discussion: """
      Exit status: 0 found (or the request succeeded), 1 no match, 2 cannot connect or timed out, 3 the server replied with an error, 64 usage error.

      Connection options go before the subcommand or after it. SEARCHD_HOST and SEARCHD_PORT set the default server (SEARCHD_ECHO_PORT the echo service's port).
      """,
    version: SearchdVersion.current,
    subcommands: [Search.self, Suggest.self, Binary.self, Ping.self, Echo.self, Status.self, Bench.self])

  @OptionGroup var options: ConnectionOptions
}

/// A subcommand that connects: its connection options over those given before its name.
protocol ConnectingCommand {
  var searchctl: SearchCtl { get }
  var own: ConnectionOptions { get }
}

extension ConnectingCommand {
  var options: ConnectionOptions { own.over(searchctl.options) }

  /// A client of the search service as the options say.
  func client() throws -> SearchdClient {
    SearchdClient(try options.configuration(.search))
  }

  /// One request's reply frame; no reply at all exits 2.
  func exchange(_ request: [UInt8]) async throws -> Frame {
    let client = try client()
    defer { client.close() }
    do {
      return try await client.request(request)
    } catch {
      exitWith(.unavailable, error.description)
    }
  }
}

/// Ends the process with a status, after the message (if any) went to stderr.
func exitWith(_ status: ExitStatus, _ message: String? = nil) -> Never {
  if let message { printErr("searchctl: \(message)") }
  Foundation.exit(status.rawValue)
}
