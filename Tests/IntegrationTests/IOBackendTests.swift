import Foundation
import Glibc
import SearchdWire
import TestSupport
import Testing

@testable import IntegrationSupport

/// io-backend: io_uring serves every listener, and where the kernel refuses io_uring (a
/// seccomp filter answering EPERM or ENOSYS, as container runtimes and systemd's
/// SystemCallFilter= do) `auto` runs on epoll saying why once, an explicit io_uring exits 78.
@Suite(.daemonSuite) struct IOBackendTests {
  /// The helper that runs a command with io_uring_setup refused.
  private static let refusing = [
    "/usr/bin/python3", Binaries.python.appendingPathComponent("without_io_uring.py").path,
  ]

  @Test(arguments: ["EPERM", "ENOSYS"]) func anIOUringTheKernelRefusesStopsTheStartNamingWhy(_ errno: String) throws {
    let r = try runProcess(
      URL(fileURLWithPath: Self.refusing[0]),
      [Self.refusing[1], errno, Binaries.searchd.path, "--listen", "127.0.0.1:0", "--io-backend", "io_uring"],
      timeout: 30)
    #expect(r.status == 78, "\(r.stderr)")
    let why = errno == "EPERM" ? "io_uring_setup is not permitted" : "io_uring_setup is not available"
    #expect(r.stderr.contains("searchd: io-backend = io_uring, but \(why)"), "\(r.stderr)")
  }

  @Test(arguments: ["EPERM", "ENOSYS"]) func autoServesOnEpollAndSaysWhyOnce(_ errno: String) throws {
    let daemon = try Daemon(["--io-backend", "auto"], wrapper: Self.refusing + [errno])
    defer { daemon.stop() }
    let ready = try #require(daemon.waitForLog("searchd ready"))
    #expect(ready.contains("searchd_io_backend=epoll"), "\(ready)")
    let notices = daemon.logText.split(separator: "\n").filter {
      $0.contains("message_id=\(MessageIDs.ioUringUnavailable)")
    }
    #expect(notices.count == 1, "\(daemon.logText)")
    #expect(notices.first?.contains("io_uring is not available, serving on epoll: io_uring_setup") == true)
    let r = try searchctl(["search", "--port", "\(daemon.appPort)", "morpheus"])
    #expect(r.status == 0)
  }

  /// Where the kernel allows it, auto takes io_uring.
  @Test func autoTakesIOUringWhereTheKernelAllowsIt() throws {
    let daemon = try Daemon(["--io-backend", "auto"])
    defer { daemon.stop() }
    #expect(try #require(daemon.waitForLog("searchd ready")).contains("searchd_io_backend=io_uring"))
    #expect(!daemon.logText.contains(MessageIDs.ioUringUnavailable))
  }

  /// Search over IPv4, IPv6 and a unix socket, echo, and the admin listener, all on io_uring.
  @Test func everyListenerIsServedOnIOUring() throws {
    let path = "/tmp/searchd-test-\(UUID().uuidString.prefix(8)).sock"
    let daemon = try Daemon(
      ["--io-backend", "io_uring", "--listen", "[::1]:0", "--listen", "unix:\(path)", "--admin-listen", "127.0.0.1:0"],
      echo: true)
    defer { daemon.stop() }
    let ready = try #require(daemon.waitForLog("searchd ready"))
    #expect(ready.contains("searchd_io_backend=io_uring"), "\(ready)")
    let v6 = try #require(UInt16(ready.split(separator: "[::1]:").last?.prefix { $0.isNumber } ?? ""))
    for target in [["--port", "\(daemon.appPort)"], ["--host", "::1", "--port", "\(v6)"], ["--unix", path]] {
      let r = try searchctl(["search"] + target + ["morpheus"])
      #expect(r.stdout == "Follow the white rabbit. \u{1F430}\n", "\(target): \(r.stderr)")
    }
    let echo = try TestClient(port: daemon.echoPort)
    try echo.send(Array("over the ring".utf8))
    #expect(try echo.readRaw(timeout: 10) == Array("over the ring".utf8))
    #expect(try AdminHTTP.get(try daemon.adminPort(), "/healthz").hasPrefix("HTTP/1.1 200"))
    // Operators can see which backend serves: /metrics and searchctl status say.
    let metrics = try AdminHTTP.get(try daemon.adminPort(), "/metrics")
    #expect(metrics.contains("searchd_io_backend_info{backend=\"io_uring\"} 1"))
    let status = try searchctl(["status", "--port", "\(daemon.appPort)"])
    #expect(status.stdout.contains("io backend:     io_uring"), "\(status.stdout)")
  }

  /// 10,000 connections, each after one answered request, held idle by one loop: every one
  /// answered, none dropped, and a new client still served at once. One backend after the
  /// other: the test holds 10,000 descriptors at a time, half the usual hard limit.
  @Test func tenThousandIdleConnectionsAreHeldOnEachBackend() throws {
    // Raised for the test and the daemons it starts (root may raise the hard limit too).
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_max = max(limit.rlim_max, 24_000)
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    try #require(limit.rlim_cur >= 12_000, "the test and searchd need 10,000 descriptors each and some")
    for backend in ["epoll", "io_uring"] {
      let daemon = try Daemon([
        "--io-backend", backend, "--threads", "1", "--max-connections", "11000", "--log-level", "info",
        "--admin-listen", "127.0.0.1:0",
      ])
      defer { daemon.stop() }
      let request = Request.encodeSearch("morpheus")
      var clients: [TestClient] = []
      defer { for c in clients { c.close() } }
      for _ in 0..<10_000 {
        let c = try TestClient(port: daemon.appPort)
        try c.send(request)
        clients.append(c)
      }
      var answered = 0
      for c in clients where try c.readMessage(timeout: 30) == protocolVectors[0].response { answered += 1 }
      #expect(answered == 10_000, "\(backend)")
      let metrics = try AdminHTTP.get(try daemon.adminPort(), "/metrics")
      let open = AdminHTTP.value(metrics, "searchd_connections_open{listener=\"app=127.0.0.1:\(daemon.appPort)\"}")
      #expect(open == 10_000, "\(backend)")
      #expect(try searchctl(["search", "--port", "\(daemon.appPort)", "morpheus"]).status == 0, "\(backend)")
    }
  }
}
