import Foundation
import Glibc
import Testing

@testable import IntegrationSupport

/// deploy/'s fleet under the real systemd: three replicas from the searchd@.service
/// template, deploy/haproxy.cfg in front of them, deploy/prometheus/prometheus.yml's jobs scraping
/// them and HAProxy; the client's own address in every replica's journal.
extension SystemdTests {
  private static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy")

  private func deployed(_ name: String) throws -> String {
    try String(contentsOf: Self.deploy.appendingPathComponent(name), encoding: .utf8)
  }

  @Test func theReplicaTemplateRunsAFleetBehindHAProxy() throws {
    let sandbox = try SystemdSandbox()
    let replicas = ["a", "b", "c"]
    // The template as `make install` put it in the sandbox's tree (its path rewritten
    // there), the three configs as shipped (connection events, which name the peer, are
    // logged at debug), and the index they name compiled as docs/FLEET.md says.
    var files: [(String, String)] = [("/etc/searchd/keys.json", #"{"morpheus": "Follow the white rabbit."}"#)]
    for name in replicas {
      files.append(("/etc/searchd/\(name).conf", try deployed("\(name).conf") + "log-level = debug\n"))
    }
    // The files go in as base64: the sandbox's /tmp is its own, and the repository may be in the host's.
    for (destination, text) in files {
      let r = try sandbox.run("sh", "-c", "echo \(Data(text.utf8).base64EncodedString()) | base64 -d > \(destination)")
      #expect(r.status == 0, "\(r.stderr)")
    }
    let built = try sandbox.run("searchd-index", "build", "/etc/searchd/keys.json", "/etc/searchd/index.sidx")
    #expect(built.status == 0, "\(built.stderr)")
    let units = replicas.map { "searchd@\($0)" }
    let started = try sandbox.run(
      "sh", "-c", "systemctl daemon-reload && systemctl start \(units.joined(separator: " "))")
    #expect(started.status == 0, "\(started.stderr)")
    for unit in units { #expect(try sandbox.property("ActiveState", of: unit + ".service") == "active") }

    // deploy/haproxy.cfg as shipped, on free ports for its front and its exporter (the
    // sandbox shares the host's loopback, where 65432 may be the shipped socket's).
    let (front, exporter) = (try unusedPort(), try unusedPort())
    let haproxy = try HAProxy(
      config: try deployed("haproxy.cfg").replacingOccurrences(of: "bind :65432", with: "bind 127.0.0.1:\(front)")
        .replacingOccurrences(of: "127.0.0.1:8405", with: "127.0.0.1:\(exporter)"))
    #expect(haproxy.waitForListener(front), "\(haproxy.logText)")
    let bench = try searchctl(["bench", "-p", "\(front)", "-c", "6", "-n", "600", "--bind", "127.0.0.2"])
    #expect(bench.status == 0 && bench.stdout.contains("600 replies verified"), "\(bench.stdout)\(bench.stderr)")

    // Each replica's journal names the client (127.0.0.2), not HAProxy (127.0.0.1): the
    // bench's 6 connections and its probe, spread over the three.
    var fromClient = 0
    for unit in units {
      // The search connections' (the admin listener's are HAProxy's checks and Prometheus's).
      let peers = try sandbox.journal(unit: unit).filter { $0["SEARCHD_SERVICE"] as? String == "app" }
        .compactMap { $0["SEARCHD_PEER"] as? String }
      let clients = peers.filter { $0.hasPrefix("127.0.0.2:") }.count
      #expect(clients > 0, "\(unit)'s journal names the client: \(peers.prefix(5))")
      fromClient += clients
    }
    #expect(fromClient == 7)

    // deploy/prometheus/prometheus.yml's two jobs (on the exporter's port here).
    let prometheus = try Prometheus(jobs: [("searchd", [65511, 65512, 65513]), ("haproxy", [exporter])])
    var up: [(job: String, instance: String, value: Double)] = []
    var total: Double?
    var active: Double?
    _ = prometheus.waitFor(60) {
      up = prometheus.query("up")
      total = prometheus.query("sum(searchd_requests_total{kind=\"search_hit\"})").first?.value
      active = prometheus.query("haproxy_backend_active_servers{proxy=\"searchd\"}").first?.value
      return up.count == 4 && up.allSatisfy { $0.value == 1 } && total == 601 && active == 3
    }
    #expect(up.count == 4 && up.allSatisfy { $0.value == 1 }, "up: \(up); \(prometheus.logText.suffix(2000))")
    // The 600 searches and the bench's probe, summed over the three replicas.
    #expect(total == 601, "searchd_requests_total summed: \(String(describing: total))")
    #expect(active == 3, "HAProxy's exporter: \(String(describing: active)) active servers")

    // Every panel of deploy/grafana/searchd.json has data from this fleet.
    var empty = try MonitoringTests.dashboardQueries()
    _ = prometheus.waitFor(30) {
      empty = empty.filter { prometheus.query($0).isEmpty }
      return empty.isEmpty
    }
    #expect(empty.isEmpty, "dashboard queries without data: \(empty)")

    try sandbox.run("systemctl", "stop", units[0], units[1], units[2])
    for unit in units { #expect(try sandbox.property("Result", of: unit + ".service") == "success") }
  }
}
