import ArgumentParser
import Foundation
import SearchdClient
import SearchdSystem
import SearchdTLS

/// Where to connect and how to show the exchange: accepted before the subcommand (by
/// `searchctl` itself) and after it; a value after the subcommand wins.
struct ConnectionOptions: ParsableArguments {
  static let defaultTimeout = 5.0

  @Option(name: [.customShort("H"), .long], help: "Server host (default: $SEARCHD_HOST or 127.0.0.1).")
  var host: String?

  @Option(name: [.short, .long], help: "Server port (default: the command's variable or the service's port).")
  var port: UInt16?

  @Option(help: ArgumentHelp("Connect to a unix socket instead of TCP.", valueName: "path"), completion: .file())
  var unix: String?

  @Option(help: "Seconds to wait for the connection and for each reply (default: 5).")
  var timeout: Double?

  @Flag(help: "Print the result as one JSON object, for scripts (a reply: its header and content).")
  var json = false

  @Flag(name: .shortAndLong, help: "Show the bytes sent and received, as the tutorial's clients print them.")
  var verbose = false

  @Flag(help: "Connect over TLS (the default port becomes 65443).")
  var tls = false

  @Option(
    help: ArgumentHelp(
      "Check the server's certificate against the CAs in FILE (PEM; default: the system's).", valueName: "file"),
    completion: .file())
  var cacert: String?

  @Option(help: ArgumentHelp("Present the client certificate in FILE (PEM).", valueName: "file"), completion: .file())
  var cert: String?

  @Option(
    help: ArgumentHelp("The client certificate's key (PEM; default: in --cert).", valueName: "file"),
    completion: .file())
  var key: String?

  @Option(help: ArgumentHelp("The name the server's certificate must carry (default: the host).", valueName: "name"))
  var servername: String?

  /// These options (given after the subcommand) over `outer` (given before it).
  func over(_ outer: ConnectionOptions) -> ConnectionOptions {
    var o = self
    o.host = host ?? outer.host
    o.port = port ?? outer.port
    o.unix = unix ?? outer.unix
    o.timeout = timeout ?? outer.timeout
    o.json = json || outer.json
    o.verbose = verbose || outer.verbose
    o.tls = tls || outer.tls
    o.cacert = cacert ?? outer.cacert
    o.cert = cert ?? outer.cert
    o.key = key ?? outer.key
    o.servername = servername ?? outer.servername
    return o
  }

  var seconds: Double { timeout ?? Self.defaultTimeout }

  func check() throws {
    guard seconds > 0 && seconds < 1e6 else { throw ValidationError("--timeout must be a positive number of seconds") }
    if let p = port, p == 0 { throw ValidationError("--port must be from 1 to 65535") }
    if !tls && (cacert != nil || cert != nil || key != nil || servername != nil) {
      throw ValidationError("--cacert, --cert, --key and --servername need --tls")
    }
    if key != nil && cert == nil { throw ValidationError("--key needs --cert") }
  }

  /// Which port the command talks to when -p is not given: the service's, or the one in
  /// the command's own environment variable.
  struct Service {
    let port: UInt16
    let variable: String
    static let search = Service(port: 65432, variable: "SEARCHD_PORT")
    static let echo = Service(port: 65433, variable: "SEARCHD_ECHO_PORT")
  }

  /// The client's configuration; a TLS file that cannot be read exits 2.
  func configuration(_ service: Service) throws -> SearchdClient.Configuration {
    try check()
    let endpoint = try endpoint(service)
    var configuration = SearchdClient.Configuration(endpoint: endpoint, timeout: seconds, trace: trace)
    guard tls else { return configuration }
    var name = servername
    if name == nil, case .host(let host, _) = endpoint { name = host }
    do throws(TLSError) {
      configuration.tls = try ClientTLS(caFile: cacert, certificate: cert, key: key, serverName: name)
    } catch {
      exitWith(.unavailable, "cannot set up TLS: \(error)\(Self.keyHint(error, cert: cert, key: key))")
    }
    return configuration
  }

  /// With -v, every request and reply as the tutorial's clients print them.
  private var trace: (@Sendable (SearchdClient.Trace) -> Void)? {
    guard verbose else { return nil }
    let output = self.output
    return { event in
      switch event {
      case .sent(let bytes, let target): output.sent(bytes, to: target)
      case .received(let frame, let target): output.received(frame, from: target)
      }
    }
  }

  /// OpenSSL says "PEM lib" when the certificate's file holds no key: say where to put it.
  static func keyHint(_ error: TLSError, cert: String?, key: String?) -> String {
    guard cert != nil, key == nil, error.description.contains("PEM lib") else { return "" }
    return " (is the key in its own file? give it with --key FILE)"
  }

  func endpoint(_ service: Service) throws -> Endpoint {
    if let unix { return .unix(path: unix) }
    let env = ProcessInfo.processInfo.environment
    var h = host ?? env["SEARCHD_HOST"] ?? "127.0.0.1"
    // [::1] as a URL writes it: the brackets are not part of the address.
    if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
    var p = port
    if p == nil, let e = env[service.variable] {
      guard let v = UInt16(e), v > 0 else {
        throw ValidationError("\(service.variable) must be a port number, not \"\(e)\"")
      }
      p = v
    }
    return .host(h, port: p ?? (tls ? 65443 : service.port))
  }

  var output: Output { Output(json: json, verbose: verbose) }
}
