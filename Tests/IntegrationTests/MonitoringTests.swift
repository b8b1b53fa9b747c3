import Foundation
import Testing

@testable import IntegrationSupport

/// deploy/'s monitoring as shipped: Prometheus's config and alert rules pass promtool (the
/// rules' own unit tests included), and every searchd metric the dashboard and the rules
/// name is one the daemon exports. The dashboard's queries are run against a real
/// Prometheus scraping a fleet by Systemd/TemplateTests.swift.
@Suite(.daemonSuite) struct MonitoringTests {
  static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("deploy")

  /// Every query of the dashboard's panels.
  static func dashboardQueries() throws -> [String] {
    let data = try Data(contentsOf: deploy.appendingPathComponent("grafana/searchd.json"))
    let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let panels = try #require(dashboard["panels"] as? [[String: Any]])
    return panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
  }

  private func promtool(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    try runProcess(URL(fileURLWithPath: "/usr/bin/promtool"), args, timeout: 60)
  }

  @Test func theRulesAndTheConfigPassPromtoolAndTheRulesOwnTests() throws {
    let dir = Self.deploy.appendingPathComponent("prometheus").path
    let config = try promtool(["check", "config", dir + "/prometheus.yml"])
    #expect(config.status == 0, "\(config.stdout)\(config.stderr)")
    let rules = try promtool(["check", "rules", dir + "/alerts.yml"])
    #expect(rules.status == 0 && rules.stdout.contains("SUCCESS: 7 rules found"), "\(rules.stdout)\(rules.stderr)")
    let tests = try promtool(["test", "rules", dir + "/alerts_test.yml"])
    #expect(tests.status == 0 && tests.stdout.contains("SUCCESS"), "\(tests.stdout)\(tests.stderr)")
  }

  @Test func everyMetricTheDashboardAndTheRulesNameIsExported() throws {
    let queries = try Self.dashboardQueries()
    #expect(queries.count >= 14, "every panel has its query: \(queries.count)")
    let rules = try String(contentsOf: Self.deploy.appendingPathComponent("prometheus/alerts.yml"), encoding: .utf8)
    let named = Set((queries + [rules]).flatMap { $0.matches(of: /searchd_[a-z_]+/).map { String($0.output) } })
    let daemon = try Daemon(["--admin-listen", "127.0.0.1:0"])
    let metrics = try AdminHTTP.get(try daemon.adminPort(), "/metrics")
    let exported = Set(
      metrics.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
    // A histogram's series are its name with _bucket, _sum and _count.
    let missing = named.filter { name in
      !exported.contains(name)
        && !["_bucket", "_sum", "_count"].contains {
          name.hasSuffix($0) && exported.contains(String(name.dropLast($0.count)))
        }
    }
    #expect(named.count > 10)
    #expect(missing.isEmpty, "named but not exported: \(missing.sorted())")
  }
}
