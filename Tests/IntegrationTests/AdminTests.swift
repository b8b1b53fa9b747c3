import Foundation
import Glibc
import SearchdWire
import Testing

@testable import IntegrationSupport

/// The admin listener: /metrics as Prometheus reads it (promtool, and a real Prometheus
/// server scraping it), /healthz, /readyz through a drain, and bad HTTP refused without
/// touching the search listeners.
@Suite(.daemonSuite) struct AdminTests {
  @Test func metricsCountWhatWasServedAndPassPromtool() throws {
    let daemon = try Daemon(["--admin-listen", "127.0.0.1:0"])
    defer { daemon.stop() }
    let port = try daemon.adminPort()
    let bench = try searchctl(["bench", "-p", "\(daemon.appPort)", "-n", "500", "-c", "5"])
    #expect(bench.status == 0)
    let c = try TestClient(port: daemon.appPort)
    try c.send(Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array("{x".utf8)))
    _ = try c.readMessage()
    c.close()
    let reply = try AdminHTTP.get(port, "/metrics")
    #expect(reply.hasPrefix("HTTP/1.1 200 OK\r\n"))
    #expect(reply.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
    let body = String(reply[reply.range(of: "\r\n\r\n")!.upperBound...])
    // The bench's 500 and its probe; the bad request is an answered request too.
    #expect(AdminHTTP.value(body, "searchd_requests_total{kind=\"search_hit\"}") == 501)
    #expect(AdminHTTP.value(body, "searchd_request_errors_total{code=\"bad-json\"}") == 1)
    #expect(AdminHTTP.value(body, "searchd_request_duration_seconds_count") == 502)
    #expect(AdminHTTP.value(body, "searchd_ready") == 1)
    #expect(body.contains("searchd_build_info{version=\""))
    #expect((AdminHTTP.value(body, "searchd_received_bytes_total") ?? 0) > 500 * 90)
    let promtool = try runProcess(
      URL(fileURLWithPath: "/usr/bin/promtool"), ["check", "metrics"], stdin: Data(body.utf8))
    #expect(
      promtool.status == 0 && promtool.stdout.isEmpty && promtool.stderr.isEmpty, "\(promtool.stdout)\(promtool.stderr)"
    )
    // HEAD: the same head, no body.
    let head = try AdminHTTP.get(port, "/metrics", method: "HEAD")
    #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.hasSuffix("\r\n\r\n"))
  }

  @Test func readyzTurns503AtSIGTERMWhileSearchesAreStillServed() throws {
    let daemon = try Daemon(["--admin-listen", "127.0.0.1:0", "--drain-delay", "2"])
    let port = try daemon.adminPort()
    #expect(try AdminHTTP.get(port, "/readyz").hasPrefix("HTTP/1.1 200 OK"))
    let health = try AdminHTTP.get(port, "/healthz")
    #expect(health.hasPrefix("HTTP/1.1 200 OK") && health.hasSuffix("\r\n\r\nok\n"), "\(health)")
    daemon.signal(SIGTERM)
    usleep(300_000)
    #expect(try AdminHTTP.get(port, "/readyz").hasPrefix("HTTP/1.1 503 "))
    #expect(try searchctl(["search", "-p", "\(daemon.appPort)", "ring"]).status == 0, "still serving in the delay")
    let status = daemon.waitForExit(timeout: 10)
    #expect(status == 0)
  }

  @Test func badHTTPGetsA4xxOrACloseAndSearchGoesOn() throws {
    let daemon = try Daemon(
      ["--admin-listen", "127.0.0.1:0", "--request-timeout", "1", "--admin-max-connections", "1024"])
    defer { daemon.stop() }
    let port = try daemon.adminPort()
    let bystander = try daemon.servedBystander()
    let cases: [([UInt8], String)] = [
      (Array("POST /metrics HTTP/1.1\r\n\r\n".utf8), "HTTP/1.1 405 "),
      (Array("GET /\(String(repeating: "a", count: 2000)) HTTP/1.1\r\n\r\n".utf8), "HTTP/1.1 414 "),
      (Array("GET / HTTP/1.1\r\nX: \(String(repeating: "b", count: 9000))\r\n\r\n".utf8), "HTTP/1.1 431 "),
      (Array("GET / HTTP/2.0\r\n\r\n".utf8), "HTTP/1.1 505 "),
      (Array("\u{16}\u{03}\u{01}garbage\r\n\r\n".utf8), "HTTP/1.1 400 "),
      (Array("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".utf8), "HTTP/1.1 400 "),
      (Array("GET /nope HTTP/1.1\r\n\r\n".utf8), "HTTP/1.1 404 "),
    ]
    for (request, status) in cases {
      let reply = try AdminHTTP.exchange(port, request)
      #expect(reply.hasPrefix(status), "\(String(decoding: request.prefix(30), as: UTF8.self)): \(reply.prefix(60))")
    }
    // A thousand slow heads at once: each answered 408 at request-timeout, search unharmed.
    var slow: [TestClient] = []
    for _ in 0..<1000 {
      let c = try TestClient(port: port)
      try c.send(Array("GET /metrics HTTP/1.1\r\nHost:".utf8))
      slow.append(c)
    }
    try bystander.send(Request.encodeSearch("ring"))
    #expect(try bystander.readMessage(timeout: 1) != nil, "search is served beside them")
    let start = Date()
    var timedOut = 0
    for c in slow {
      if String(decoding: try c.readAll(timeout: 5), as: UTF8.self).hasPrefix("HTTP/1.1 408 ") { timedOut += 1 }
      c.close()
    }
    #expect(timedOut == 1000)
    #expect(Date().timeIntervalSince(start) < 4, "answered at the 1 s deadline (sweeps every 0.25 s)")
    try bystander.send(Request.encodeSearch("morpheus"))
    #expect(try bystander.readMessage(timeout: 1) != nil)
  }

  /// A real Prometheus server scrapes three daemons' admin listeners: `up` is 1 for each,
  /// and its sum of searchd_requests_total is what the clients counted.
  @Test func prometheusScrapesEveryReplica() throws {
    let daemons = try (0..<3).map { _ in try Daemon(["--admin-listen", "127.0.0.1:0"]) }
    defer { daemons.forEach { $0.stop() } }
    let ports = try daemons.map { try $0.adminPort() }
    for (i, d) in daemons.enumerated() {
      #expect(try searchctl(["bench", "-p", "\(d.appPort)", "-n", "\(100 * (i + 1))", "-c", "2"]).status == 0)
    }
    let prometheus = try Prometheus(jobs: [("searchd", ports)])
    var up: [(job: String, instance: String, value: Double)] = []
    var total: [(job: String, instance: String, value: Double)] = []
    _ = prometheus.waitFor(60) {
      up = prometheus.query("up")
      total = prometheus.query("sum(searchd_requests_total{kind=\"search_hit\"})")
      return up.count == 3 && up.allSatisfy({ $0.value == 1 }) && total.first?.value == 603
    }
    #expect(
      up.count == 3 && up.allSatisfy { $0.value == 1 }, "up: \(up); prometheus: \(prometheus.logText.suffix(2000))")
    // 100, 200 and 300 searches, and each bench's probe.
    #expect(total.first?.value == 603, "searchd_requests_total summed: \(total)")
  }
}
