import Foundation
import Glibc
import Testing

/// deploy/'s replica template under the real systemd: searchd@a.service with deploy/a.conf
/// serves its PROXY listener and its admin listener, and stops cleanly.
extension SystemdTests {
  private static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy")

  @Test func theReplicaTemplateServesAReplica() throws {
    let sandbox = try SystemdSandbox()
    // The files go in as base64: the sandbox's /tmp is its own, and the repository may be in the host's.
    for (source, destination) in [
      ("searchd@.service", "/etc/systemd/system/searchd@.service"), ("a.conf", "/etc/searchd/a.conf"),
    ] {
      let text = try Data(contentsOf: Self.deploy.appendingPathComponent(source)).base64EncodedString()
      let r = try sandbox.run("sh", "-c", "echo \(text) | base64 -d > \(destination)")
      #expect(r.status == 0, "\(r.stderr)")
    }
    let started = try sandbox.run("sh", "-c", "systemctl daemon-reload && systemctl start searchd@a")
    #expect(started.status == 0, "\(started.stderr)")
    #expect(try sandbox.property("ActiveState", of: "searchd@a.service") == "active")
    let ready = try runProcess(
      URL(fileURLWithPath: "/usr/bin/python3"),
      ["-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:65511/readyz').read().decode())"])
    #expect(ready.stdout == "ready\n\n", "\(ready.stdout)\(ready.stderr)")
    let bench = try searchctl(["bench", "-p", "65501", "--proxy-header", "-c", "2", "-n", "100"])
    #expect(bench.status == 0 && bench.stdout.contains("100 replies verified"), "\(bench.stdout)\(bench.stderr)")
    try sandbox.run("systemctl", "stop", "searchd@a")
    #expect(try sandbox.property("Result", of: "searchd@a.service") == "success")
  }
}
