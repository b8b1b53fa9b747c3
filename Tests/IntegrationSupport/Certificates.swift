import Foundation

/// Certificates made for a test with Debian's openssl: a CA, a server certificate for
/// localhost and 127.0.0.1, and client certificates by name, in a folder removed with it.
final class Certificates {
  let dir: String

  init() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("searchd-certs-\(UUID())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try makeCA("ca")
    try issue("server", cn: "localhost", by: "ca", extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1")
  }

  deinit { try? FileManager.default.removeItem(atPath: dir) }

  func path(_ name: String) -> String { "\(dir)/\(name).pem" }
  func key(_ name: String) -> String { "\(dir)/\(name).key" }

  /// A self-signed CA named `name`.
  func makeCA(_ name: String) throws {
    try openssl([
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=\(name)",
      "-days", "2", "-keyout", key(name), "-out", path(name),
    ])
  }

  /// A certificate for `cn` signed by the CA `by`, valid for `days` (negative: expired).
  func issue(_ name: String, cn: String, by ca: String, days: Int = 2, extensions: String? = nil) throws {
    try openssl([
      "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=\(cn)", "-keyout",
      key(name), "-out", "\(dir)/\(name).csr",
    ])
    var args = [
      "x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", path(ca), "-CAkey", key(ca), "-CAcreateserial", "-days",
      "\(days)", "-out", path(name),
    ]
    if let extensions {
      try extensions.write(toFile: "\(dir)/\(name).ext", atomically: true, encoding: .utf8)
      args += ["-extfile", "\(dir)/\(name).ext"]
    }
    try openssl(args)
  }

  private func openssl(_ args: [String]) throws {
    let r = try runProcess(URL(fileURLWithPath: "/usr/bin/openssl"), args)
    guard r.status == 0 else { throw Daemon.StartError(description: "openssl \(args[0]) failed: \(r.stderr)") }
  }

  /// searchd's flags to serve TLS with the server certificate.
  var serverFlags: [String] {
    ["--tls-listen", "127.0.0.1:0", "--tls-certificate", path("server"), "--tls-key", key("server")]
  }

  /// searchctl's flags to reach `port` over TLS, as `client` if given.
  func clientFlags(port: UInt16, ca: String = "ca", client: String? = nil) -> [String] {
    var flags = ["-p", "\(port)", "--tls", "--cacert", path(ca)]
    if let client { flags += ["--cert", path(client), "--key", key(client)] }
    return flags
  }
}
