import Foundation
import Glibc
import Testing

@testable import IntegrationSupport

/// searchd-proxy.socket and searchd-admin.socket under the real systemd: a balancer's
/// first connection starts the service, which takes the sockets named app-proxy and
/// admin, reads each connection's PROXY header and answers the admin requests.
extension SystemdTests {
  @Test func theProxyAndAdminSocketsStartTheServiceAndServe() throws {
    let sandbox = try SystemdSandbox()
    let enabled = try sandbox.run(
      "systemctl", "enable", "--now", "searchd-proxy.socket", "searchd-admin.socket", "searchd.socket")
    #expect(enabled.status == 0, "\(enabled.stderr)")
    #expect(try sandbox.property("ActiveState") == "inactive", "nothing has connected yet")

    // searchctl standing in for HAProxy: a v2 header naming 127.0.0.2 on each connection.
    let bench = try searchctl(["bench", "-p", "65434", "--proxy-header", "--bind", "127.0.0.2", "-c", "2", "-n", "50"])
    #expect(bench.status == 0 && bench.stdout.contains("50 replies verified"), "\(bench.stdout)\(bench.stderr)")
    #expect(try sandbox.property("ActiveState") == "active", "the PROXY socket started the service")

    let get = { (path: String) throws -> String in
      try runProcess(
        URL(fileURLWithPath: "/usr/bin/python3"),
        [
          "-c",
          "import urllib.request as u; r = u.urlopen('http://127.0.0.1:65480\(path)'); print(r.status); print(r.read().decode())",
        ],
        timeout: 10
      ).stdout
    }
    #expect(try get("/readyz").hasPrefix("200\nready"))
    let metrics = try get("/metrics")
    // The bench's two connections and its probe, on the socket systemd passed.
    #expect(
      metrics.contains("searchd_connections_accepted_total{listener=\"app-proxy=127.0.0.1:65434\"} 3"),
      "\(metrics.split(separator: "\n").filter { $0.contains("accepted") })")
    #expect(metrics.contains("searchd_proxy_header_failures_total{reason=\"malformed\"} 0"))
  }
}
