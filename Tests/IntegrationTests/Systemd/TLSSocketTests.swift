import Foundation
import Glibc
import Testing

/// searchd-tls.socket under the real systemd: a TLS client's first connection starts the
/// service, which takes the socket named app-tls. The certificate and key are files in
/// searchd's ConfigurationDirectory here: LoadCredential= cannot hand the DynamicUser its
/// files inside this sandbox (systemd there leaves /run/credentials/UNIT root-only, for
/// any DynamicUser service, not only searchd's), so the credentials-directory lookup is
/// tested with a daemon started by hand (TLSTests.bareNamesAreFoundInTheCredentialsDirectory).
extension SystemdTests {
  @Test func theTLSSocketStartsTheServiceAndServesTLS() throws {
    let sandbox = try SystemdSandbox()
    let made = try sandbox.run(
      "sh", "-c",
      """
      set -e
      mkdir -p /etc/ssl/searchd /etc/searchd/tls && cd /etc/ssl/searchd
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=test-ca -days 2 \
        -keyout ca.key -out ca.pem 2>/dev/null
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
        -keyout /etc/searchd/tls/server.key -out server.csr 2>/dev/null
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
        -out /etc/searchd/tls/server.pem 2>/dev/null
      chmod 644 /etc/searchd/tls/server.key
      printf 'tls-certificate = /etc/searchd/tls/server.pem\\ntls-key = /etc/searchd/tls/server.key\\n' >> /etc/searchd/searchd.conf
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
  }
}
