import Foundation
import Glibc
import SearchdWire
import Testing

@testable import IntegrationSupport

/// `searchctl bench` runs briefly and verifies every reply (its speed is `make bench`'s business).
@Suite(.daemonSuite) struct BenchTests {
  @Test(arguments: [
    ["-c", "8", "-n", "4000", "-P", "4"],
    ["-c", "4", "-n", "300", "--mode", "per-connection"],
    ["-c", "4", "-n", "500", "--kind", "binary", "--size", "100"],
    ["-c", "3", "-n", "500", "--kind", "miss", "--threads", "1"],
  ])
  func benchVerifiesEveryReply(_ args: [String]) throws {
    let daemon = try Daemon(["--log-level", "info"])
    let r = try searchctl(["bench", "-p", "\(daemon.appPort)"] + args)
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    let n = args[args.firstIndex(of: "-n")! + 1]
    #expect(r.stdout.contains("\(n) replies verified"), "\(r.stdout)")
    #expect(r.stdout.contains("errors: none"))
    #expect(r.stdout.contains("p99.9"))
  }

  /// --bind spreads connections over source addresses, the port left to connect(2):
  /// how a load generator gets past one address's ephemeral ports.
  @Test func bindSpreadsConnectionsOverSourceAddresses() throws {
    let daemon = try Daemon()
    let r = try searchctl([
      "bench", "-p", "\(daemon.appPort)", "-c", "4", "-n", "200", "--mode", "per-connection", "--bind",
      "127.0.0.2,127.0.0.3",
    ])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("200 replies verified"), "\(r.stdout)")
    // The daemon logs each accepted connection's peer at debug, its default in tests.
    #expect(daemon.waitForLog("127.0.0.2:") != nil)
    #expect(daemon.waitForLog("127.0.0.3:") != nil)
  }

  @Test func keysFileAndJSONReport() throws {
    let daemon = try Daemon(["--log-level", "info"])
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID())").path
    try Data("morpheus\nring\nnothing\n".utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try searchctl([
      "bench", "-p", "\(daemon.appPort)", "-c", "2", "-n", "300", "--kind", "keys", "--keys", path, "--json",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(object["requests"] as? Int == 300)
    #expect((object["errors"] as? [String: Any])?.isEmpty == true)
    #expect((object["latency_us"] as? [String: Any])?["p99"] != nil)
  }

  /// A keys run takes any reply but an error: a key the server refuses (over
  /// --max-content-length) is counted as an error reply, the others as completed.
  @Test func keysRunsCountErrorReplies() throws {
    let daemon = try Daemon(["--max-content-length", "100"])
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID())").path
    try Data("morpheus\n\(String(repeating: "k", count: 200))\n".utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try searchctl([
      "bench", "-p", "\(daemon.appPort)", "-c", "1", "-n", "20", "--kind", "keys", "--keys", path, "--json",
    ])
    #expect(r.status == 3, "\(r.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    let errors = try #require(object["errors"] as? [String: Int])
    #expect((errors["error-reply"] ?? 0) > 0, "\(errors)")
  }

  /// A frame the server refuses: the probe's error reply is not taken as the expected
  /// answer, so every reply of the run counts as an error reply.
  @Test func aFrameAnsweredWithErrorRepliesReportsThem() throws {
    let daemon = try Daemon()
    let folder = TestFolder("bench-frame")
    defer { folder.remove() }
    let path = folder.path("bad.frame")
    try Data(Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array("{".utf8)))
      .write(to: URL(fileURLWithPath: path))
    let r = try searchctl(["bench", "-p", "\(daemon.appPort)", "-c", "1", "-n", "10", "--kind", "frame:\(path)"])
    #expect(r.status == 3, "\(r.stderr)")
    #expect(r.stdout.contains("errors: error-reply 10"), "\(r.stdout)")
  }

  @Test func requestsCutOffByACloseAreResentAndCounted() throws {
    // A server that closes after one reply (the tutorial's): on keep-alive connections every
    // second request finds its connection closed before any byte of its reply, and is
    // resent once on a fresh connection, counted apart from failures.
    let server = try TutorialServer()
    // ARC may end a local's life at its last use: keep the server up for the whole test.
    defer { withExtendedLifetime(server) {} }
    let port = server.port
    let keepalive = try searchctl(["bench", "-p", port, "-c", "2", "-n", "50", "--timeout", "2", "--json"])
    #expect(keepalive.status == 0, "\(keepalive.stdout)\(keepalive.stderr)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(keepalive.stdout.utf8)) as? [String: Any])
    #expect(report["requests"] as? Int == 50)
    #expect((report["retries"] as? Int ?? 0) >= 20, "\(report)")
    #expect((report["errors"] as? [String: Int])?.isEmpty == true)
    let perConnection = try searchctl(["bench", "-p", port, "-c", "2", "-n", "50", "--mode", "per-connection"])
    #expect(perConnection.status == 0, "the tutorial's flow is per-connection: \(perConnection.stdout)")
  }
}
