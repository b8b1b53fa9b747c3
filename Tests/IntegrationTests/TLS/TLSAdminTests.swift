import Foundation
import Glibc
import Testing

@testable import IntegrationSupport

/// The `stats` action over TLS: a local peer is served as on plaintext; a remote one (here
/// named by a PROXY header before TLS, as HAProxy passing TLS through would) only with a
/// client certificate listed in tls-admin-clients.
@Suite(.daemonSuite) struct TLSAdminTests {
  /// Python's ssl module: an optional v2 PROXY header naming CLIENT, then TLS with the
  /// given client certificate, then a `stats` request in the tutorial's framing; prints
  /// the reply's error, or "served".
  static let statsClient =
    TLSTests.tutorialFraming + """
      import ipaddress, socket, ssl
      port, ca, cert, client = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
      sock = socket.create_connection(("127.0.0.1", port), timeout=10)
      if client != "-":
          sig = b"\\r\\n\\r\\n\\x00\\r\\nQUIT\\n"
          sock.sendall(sig + bytes([0x21, 0x11, 0, 12]) + ipaddress.IPv4Address(client).packed
                       + ipaddress.IPv4Address("127.0.0.1").packed + struct.pack(">HH", 4444, port))
      context = ssl.create_default_context(cafile=ca)
      context.load_cert_chain(cert + ".pem", cert + ".key")
      sock = context.wrap_socket(sock, server_hostname="localhost")
      print(ask(sock, "stats", "").get("error") or "served")
      """

  @Test func statsOverTLSFromAfarNeedAnAdminCertificate() throws {
    let certs = try Certificates()
    try certs.issue("alice", cn: "alice", by: "ca")
    try certs.issue("bob", cn: "bob", by: "ca")
    let daemon = try Daemon(
      certs.serverFlags + [
        "--proxy-tls-listen", "127.0.0.1:0", "--tls-client-ca", certs.path("ca"), "--tls-admin-clients", "alice",
      ])
    defer { daemon.stop() }
    let line = try #require(daemon.waitForLog("searchd ready", timeout: 5))
    let r = try #require(line.range(of: "app-tls-proxy=127.0.0.1:"))
    let proxied = try #require(UInt16(line[r.upperBound...].prefix { $0.isNumber }))

    let cases: [(port: UInt16, client: String, cert: String, says: String)] = [
      (proxied, "198.51.100.7", "alice", "served"),  // remote, listed
      (proxied, "198.51.100.7", "bob", "not-permitted"),  // remote, not listed
      (proxied, "127.0.0.9", "bob", "served"),  // local by its header
      (daemon.tlsPort, "-", "bob", "served"),  // local, no header
    ]
    for c in cases {
      let out = try runProcess(
        URL(fileURLWithPath: "/usr/bin/python3"),
        ["-c", Self.statsClient, "\(c.port)", certs.path("ca"), "\(certs.dir)/\(c.cert)", c.client], timeout: 30)
      #expect(out.stdout == c.says + "\n", "\(c.cert) as \(c.client): \(out.stdout)\(out.stderr)")
    }
    #expect(daemon.logText.contains("searchd_client=alice"))
  }
}
