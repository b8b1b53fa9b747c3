import ArgumentParser
import Foundation
import SearchdSystem
import SearchdTLS

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

  @Flag(help: "Connect over TLS (the default port becomes 65443).")
  var tls = false

  @Option(
    help: ArgumentHelp(
      "Check the server's certificate against the CAs in FILE (PEM; default: the system's).", valueName: "file"))
  var cacert: String?

  @Option(help: ArgumentHelp("Present the client certificate in FILE (PEM).", valueName: "file"))
  var cert: String?

  @Option(help: ArgumentHelp("The client certificate's key (PEM; default: in --cert).", valueName: "file"))
  var key: String?

  @Option(help: ArgumentHelp("The name the server's certificate must carry (default: the host).", valueName: "name"))
  var servername: String?

  func validate() throws {
    guard timeout > 0 && timeout < 1e6 else { throw ValidationError("--timeout must be a positive number of seconds") }
    if let p = port, p == 0 { throw ValidationError("--port must be from 1 to 65535") }
    if !tls && (cacert != nil || cert != nil || key != nil || servername != nil) {
      throw ValidationError("--cacert, --cert, --key and --servername need --tls")
    }
    if key != nil && cert == nil { throw ValidationError("--key needs --cert") }
  }

  /// The endpoint and the TLS to use with it; a TLS file that cannot be read exits 2.
  func target(defaultPort: UInt16) throws -> Target {
    let endpoint = try endpoint(defaultPort: tls ? 65443 : defaultPort)
    guard tls else { return Target(endpoint: endpoint, tls: nil) }
    do {
      let context = try TLSContext.client(caFile: cacert, certificate: cert, key: key)
      var name = servername
      if name == nil, case .host(let host, _) = endpoint { name = host }
      return Target(endpoint: endpoint, tls: ClientTLS(context: context, serverName: name))
    } catch {
      exitWith(.unavailable, "cannot set up TLS: \(error)")
    }
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
