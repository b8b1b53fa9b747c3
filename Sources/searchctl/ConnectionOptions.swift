import ArgumentParser
import Foundation
import SearchdSystem

/// Where to connect and how to show the exchange; shared by every subcommand.
struct ConnectionOptions: ParsableArguments {
  @Option(name: [.customShort("H"), .long], help: "Server host (default: $SEARCHD_HOST or 127.0.0.1).")
  var host: String?

  @Option(name: [.short, .long], help: "Server port (default: $SEARCHD_PORT or the service's port).")
  var port: UInt16?

  @Option(help: ArgumentHelp("Connect to a unix socket instead of TCP.", valueName: "path"))
  var unix: String?

  @Option(help: "Seconds to wait for the connection and for each reply.")
  var timeout: Double = 5

  @Flag(help: "Print the reply and its header as one JSON object.")
  var json = false

  @Flag(name: .shortAndLong, help: "Show the bytes sent and received, as the tutorial's clients print them.")
  var verbose = false

  func validate() throws {
    guard timeout > 0 && timeout < 1e6 else { throw ValidationError("--timeout must be a positive number of seconds") }
    if let p = port, p == 0 { throw ValidationError("--port must be from 1 to 65535") }
  }

  func endpoint(defaultPort: UInt16) throws -> Endpoint {
    if let unix { return .unix(path: unix) }
    let env = ProcessInfo.processInfo.environment
    let h = host ?? env["SEARCHD_HOST"] ?? "127.0.0.1"
    var p = port
    if p == nil, let e = env["SEARCHD_PORT"] {
      guard let v = UInt16(e), v > 0 else { throw ValidationError("SEARCHD_PORT must be a port number, not \"\(e)\"") }
      p = v
    }
    return .host(h, port: p ?? defaultPort)
  }

  var output: Output { Output(json: json, verbose: verbose) }
}
