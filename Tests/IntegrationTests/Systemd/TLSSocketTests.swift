import Foundation
import Glibc
import Testing

@testable import IntegrationSupport

/// searchd-tls.socket under the real systemd: a TLS client's first connection starts the
/// service, which takes the socket named app-tls. The certificate and the root-only key are
/// handed over by LoadCredential= (a drop-in, as the unit's comment shows), named bare in
/// searchd.conf and found in $CREDENTIALS_DIRECTORY: the DynamicUser never reads the key
/// file itself.
extension SystemdTests {
  @Test func theTLSSocketStartsTheServiceAndServesTLS() throws {
    let sandbox = try SystemdSandbox()
    let made = try sandbox.run(
      "sh", "-c",
      """
      set -e
      mkdir -p /etc/ssl/searchd /etc/ssl/private /etc/systemd/system/searchd.service.d && cd /etc/ssl/searchd
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=test-ca -days 2 \
        -keyout ca.key -out ca.pem 2>/dev/null
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
        -keyout /etc/ssl/private/searchd.key -out server.csr 2>/dev/null
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
        -out server.pem 2>/dev/null
      chmod 600 /etc/ssl/private/searchd.key
      printf '[Service]\\nLoadCredential=server.pem:/etc/ssl/searchd/server.pem\\nLoadCredential=server.key:/etc/ssl/private/searchd.key\\n' \
        > /etc/systemd/system/searchd.service.d/tls.conf
      printf 'tls-certificate = server.pem\\ntls-key = server.key\\n' >> /etc/searchd/searchd.conf
      systemctl daemon-reload
      systemctl enable --now searchd-tls.socket searchd.socket
      """)
    #expect(made.status == 0, "\(made.stderr)")
    #expect(try sandbox.property("ActiveState") == "inactive", "nothing has connected yet")
    let ca = FileManager.default.temporaryDirectory.appendingPathComponent("searchd-ca-\(UUID()).pem").path
    defer { try? FileManager.default.removeItem(atPath: ca) }
    try sandbox.run("cat", "/etc/ssl/searchd/ca.pem").stdout.write(toFile: ca, atomically: true, encoding: .utf8)

    let r = try searchctl(["search", "--tls", "--cacert", ca, "morpheus"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "Follow the white rabbit. \u{1F430}\n")
    #expect(try sandbox.property("ActiveState") == "active", "the TLS socket started the service")
    let status = try searchctl(["status", "--json"]).stdout
    #expect(status.contains("app-tls="), "searchd took the socket named app-tls: \(status)")
    // The key reached the service through its credentials: the service runs as its
    // dynamic user, which the root-only key file does not admit.
    let pid = try sandbox.property("MainPID")
    let owners = try sandbox.run("stat", "-c", "%u %a", "/proc/\(pid)", "/etc/ssl/private/searchd.key").stdout
    let lines = owners.split(separator: "\n")
    #expect(lines.count == 2 && !lines[0].hasPrefix("0 ") && lines[1] == "0 600", "\(owners)")
    let environ = try sandbox.run("sh", "-c", "tr '\\0' '\\n' < /proc/\(pid)/environ")
    #expect(environ.stdout.contains("CREDENTIALS_DIRECTORY=/run/credentials/searchd.service"), "\(environ.stdout)")
  }
}
