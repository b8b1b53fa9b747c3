import Foundation
import Glibc
import Testing

@testable import IntegrationSupport

/// Three replicas behind Debian's HAProxy 2.6 in TCP mode, as deploy/haproxy.cfg sets them
/// up (send-proxy-v2, health checks on each replica's /readyz), all on loopback: the load
/// reaches all three, a killed replica is taken out, and a rolling restart loses nothing.
@Suite(.serialized, .daemonSuite) struct FleetTests {
  final class Fleet {
    let proxyPorts: [UInt16]
    let adminPorts: [UInt16]
    var replicas: [Daemon]
    let front: UInt16
    let haproxy: HAProxy

    init() throws {
      let proxy = try (0..<3).map { _ in try unusedPort() }
      let admin = try (0..<3).map { _ in try unusedPort() }
      let front = try unusedPort()
      (proxyPorts, adminPorts, self.front) = (proxy, admin, front)
      replicas = try (0..<3).map { try Self.replica(proxy: proxy[$0], admin: admin[$0]) }
      let servers = (0..<3).map { "  server r\($0) 127.0.0.1:\(proxy[$0]) check port \(admin[$0])" }
      haproxy = try HAProxy(
        config: """
          global
            maxconn 2000
          defaults
            mode tcp
            timeout connect 1s
            timeout client 30s
            timeout server 30s
            retries 3
            option redispatch
          frontend search
            bind 127.0.0.1:\(front)
            default_backend fleet
          backend fleet
            balance roundrobin
            option httpchk GET /readyz
            http-check expect status 200
            default-server inter 300ms fall 2 rise 2 send-proxy-v2
          """ + "\n" + servers.joined(separator: "\n"))
      guard haproxy.waitForListener(front) else { throw Daemon.StartError(description: haproxy.logText) }
      // Every replica up in HAProxy's eyes before the test begins.
      usleep(1_000_000)
    }

    static func replica(proxy: UInt16, admin: UInt16) throws -> Daemon {
      try Daemon([
        "--proxy-listen", "127.0.0.1:\(proxy)", "--admin-listen", "127.0.0.1:\(admin)", "--proxy-trusted-from",
        "127.0.0.1/32", "--drain-delay", "1",
      ])
    }

    /// `searchctl bench` through HAProxy from 127.0.0.2, in the background.
    func load(seconds: Double, connections: Int = 9) throws -> (ChildProcess, LineCollector) {
      let bench = ChildProcess()
      bench.executableURL = Binaries.searchctl
      bench.arguments = [
        "bench", "-p", "\(front)", "-c", "\(connections)", "--duration", "\(seconds)", "--bind", "127.0.0.2", "--json",
        "--timeout", "10",
      ]
      let out = Pipe()
      bench.standardOutput = out
      let collected = LineCollector()
      collected.follow(out.fileHandleForReading)
      try bench.run()
      return (bench, collected)
    }

    deinit { replicas.forEach { $0.stop() } }
  }

  private func report(_ bench: (ChildProcess, LineCollector)) throws -> [String: Any] {
    bench.0.waitUntilExit()
    bench.1.waitUntilClosed(timeout: 5)
    return try #require(try JSONSerialization.jsonObject(with: Data(bench.1.text.utf8)) as? [String: Any])
  }

  private func hits(_ daemon: Daemon) throws -> Int {
    let metrics = try daemon.stats()
    return (metrics["requests"] as? [String: Int])?["search_hit"] ?? 0
  }

  /// deploy/'s HAProxy configuration, as HAProxy checks it (Prometheus's: MonitoringTests).
  @Test func theReferenceHAProxyConfigurationIsValid() throws {
    let haproxy = try runProcess(
      URL(fileURLWithPath: "/usr/sbin/haproxy"), ["-c", "-f", MonitoringTests.deploy.path + "/haproxy.cfg"])
    #expect(haproxy.status == 0, "\(haproxy.stdout)\(haproxy.stderr)")
  }

  @Test func theLoadReachesEveryReplicaWithTheClientsAddress() throws {
    let fleet = try Fleet()
    let r = try report(try fleet.load(seconds: 2))
    #expect((r["errors"] as? [String: Int])?.isEmpty == true, "\(r)")
    #expect((r["requests"] as? Int ?? 0) > 1000)
    for replica in fleet.replicas {
      #expect(try hits(replica) > 100, "every replica served its share")
      #expect(replica.logText.contains("searchd_peer=127.0.0.2:"), "the client's own address, not HAProxy's")
    }
  }

  @Test func aKilledReplicaIsTakenOutAndTheOthersServeOn() throws {
    let fleet = try Fleet()
    let load = try fleet.load(seconds: 5)
    usleep(1_500_000)
    let killed = Date()
    fleet.replicas[1].signal(SIGKILL)
    let down = fleet.haproxy.waitForLog("fleet/r1 is DOWN", timeout: 5)
    #expect(down != nil, "\(fleet.haproxy.logText)")
    #expect(Date().timeIntervalSince(killed) <= 3, "marked down within 3 s")
    let r = try report(load)
    let failed = (r["errors"] as? [String: Int])?.values.reduce(0, +) ?? 0
    // At most the requests in flight on it: its 3 connections of 9, one request each.
    #expect(failed <= 3, "\(r)")
    #expect((r["requests"] as? Int ?? 0) > 1000)
    for i in [0, 2] { #expect(try hits(fleet.replicas[i]) > 100) }
  }

  @Test func aRollingRestartLosesNoRequest() throws {
    let fleet = try Fleet()
    let rest = try report(try fleet.load(seconds: 2))
    let load = try fleet.load(seconds: 14)
    usleep(1_000_000)
    for i in 0..<3 {
      fleet.replicas[i].signal(SIGTERM)
      #expect(fleet.haproxy.waitForLog("fleet/r\(i) is DOWN", timeout: 5) != nil)
      #expect(fleet.replicas[i].waitForExit(timeout: 10) == 0)
      fleet.replicas[i] = try Fleet.replica(proxy: fleet.proxyPorts[i], admin: fleet.adminPorts[i])
      let upLines = fleet.haproxy.logText.components(separatedBy: "fleet/r\(i) is UP").count - 1
      let deadline = Date().addingTimeInterval(5)
      while Date() < deadline && fleet.haproxy.logText.components(separatedBy: "fleet/r\(i) is UP").count - 1 == upLines
      {
        usleep(100_000)
      }
      #expect(fleet.haproxy.logText.components(separatedBy: "fleet/r\(i) is UP").count - 1 > upLines, "r\(i) back")
    }
    let r = try report(load)
    #expect((r["errors"] as? [String: Int])?.isEmpty == true, "no request failed: \(r)")
    #expect((r["requests"] as? Int ?? 0) > 5000)
    let p99 = { (x: [String: Any]) in (x["latency_us"] as? [String: Any])?["p99"] as? Int ?? 0 }
    print("rolling restart: \(r["retries"] ?? 0) requests resent; p99 \(p99(r)) µs rolling, \(p99(rest)) µs at rest")
  }
}
