import Foundation
import SearchdWire
import TestSupport
import Testing

@testable import IntegrationSupport

/// The config file (flags win over it) and the stats admin action.
@Suite(.daemonSuite) struct ConfigAndStatusTests {
  private func write(_ text: String, suffix: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("searchd-\(UUID())\(suffix)").path
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test func configFileSetsWhatFlagsDoNotOverride() throws {
    let index = try write(#"{"neo": "from the config's index"}"#, suffix: ".json")
    let config = try write(
      """
      # comment
      index = \(index)
      idle-timeout = 1
      request-timeout = 100
      """, suffix: ".conf")
    defer {
      try? FileManager.default.removeItem(atPath: index)
      try? FileManager.default.removeItem(atPath: config)
    }
    let daemon = try Daemon(["--config", config, "--request-timeout", "1"])
    let c = try TestClient(port: daemon.appPort)
    try c.send(Request.encodeSearch("neo"))
    #expect(replyFields(try c.readMessage()!).result == "from the config's index")
    #expect(try c.closes(within: 5), "idle-timeout = 1 from the file")
    let slow = try TestClient(port: daemon.appPort)
    try slow.send([0, 50, 0x7B])
    #expect(
      replyFields(try slow.readMessage(timeout: 5)!).error == "timeout", "--request-timeout 1 beats the file's 100")
  }

  /// Every flow-control limit at its most extreme, from the config file: one accept, one
  /// request and one reply in flight per turn, 512-byte reads, a 1 KiB watermark. Ten
  /// clients pipelining 500 requests each still get every reply, in order, and the
  /// counters show the limits at work.
  @Test func everyFlowControlLimitHoldsAtItsTightest() throws {
    let config = try write(
      """
      accepts-per-wakeup = 1
      requests-per-wakeup = 1
      max-in-flight = 1
      read-size = 512
      output-high-watermark = 1024
      output-low-watermark = 512
      max-output-bytes = 2048
      listen-backlog = 4
      """, suffix: ".conf")
    defer { try? FileManager.default.removeItem(atPath: config) }
    let daemon = try Daemon(["--config", config, "--log-level", "info"])
    let clients = try (0..<10).map { _ in try TestClient(port: daemon.appPort) }
    let requests = (0..<500).flatMap { i in i % 2 == 0 ? protocolVectors[0].request : protocolVectors[3].request }
    for c in clients { try c.send(requests) }
    for c in clients {
      for i in 0..<500 {
        let expected = i % 2 == 0 ? protocolVectors[0].response : protocolVectors[3].response
        guard try c.readMessage() == expected else {
          Issue.record("reply \(i) is wrong or missing")
          break
        }
      }
    }
    let stats = try daemon.stats()
    #expect(stats["request_yields"] as? Int ?? 0 > 0)
    #expect(stats["output_paused"] as? Int ?? 0 > 0)
  }

  /// Each limit is a flag and a config key, and a nonsensical value is refused at once.
  @Test(arguments: [
    "requests-per-wakeup = 0", "max-in-flight = 0", "max-output-bytes = 10", "read-size = 1",
    "output-low-watermark = 70000", "accepts-per-wakeup = 0", "max-connections = 0", "max-header-bytes = 70000",
    "idle-timeout = -1",
  ])
  func nonsensicalLimitsAreRefused(_ line: String) throws {
    let config = try write(line, suffix: ".conf")
    defer { try? FileManager.default.removeItem(atPath: config) }
    let fromFile = try runProcess(Binaries.searchd, ["--config", config, "--listen", "127.0.0.1:0"], timeout: 20)
    #expect(fromFile.status == 78, "\(fromFile.stderr)")
    let parts = line.components(separatedBy: " = ")
    let fromFlag = try runProcess(
      Binaries.searchd, ["--\(parts[0])", parts[1], "--listen", "127.0.0.1:0"], timeout: 20)
    // A value bad on its own is a usage error; one that clashes with another setting's
    // (here a default's) is a configuration error, wherever it was given.
    let clashes = ["output-low-watermark", "max-output-bytes"].contains(parts[0])
    #expect(fromFlag.status == (clashes ? 78 : 64), "\(fromFlag.stderr)")
  }

  /// The tutorial server's behaviour, from the file: a client that pipelines gets every
  /// reply, then the close; the flag turns it off again (flags win).
  @Test func closeAfterReplyFromTheConfigFile() throws {
    let config = try write("close-after-reply = yes", suffix: ".conf")
    defer { try? FileManager.default.removeItem(atPath: config) }
    let daemon = try Daemon(["--config", config])
    let c = try TestClient(port: daemon.appPort)
    try c.send(protocolVectors[0].request + protocolVectors[3].request)
    #expect(try c.readMessage() == protocolVectors[0].response)
    #expect(try c.readMessage() == protocolVectors[3].response)
    #expect(try c.closes(within: 5))

    let keeps = try Daemon(["--config", config, "--no-close-after-reply"])
    let k = try TestClient(port: keeps.appPort)
    try k.send(protocolVectors[0].request)
    #expect(try k.readMessage() == protocolVectors[0].response)
    try k.send(protocolVectors[0].request)
    #expect(try k.readMessage() == protocolVectors[0].response, "--no-close-after-reply keeps it open")
  }

  @Test func closeAfterReplyMustBeYesOrNo() throws {
    let config = try write("close-after-reply = maybe", suffix: ".conf")
    defer { try? FileManager.default.removeItem(atPath: config) }
    let r = try runProcess(Binaries.searchd, ["--config", config, "--listen", "127.0.0.1:0"], timeout: 20)
    #expect(r.status == 78)
    #expect(r.stderr.contains("close-after-reply must be yes or no"))
  }

  @Test(arguments: ["bogus-key = 1", "no equals sign", "threads = many", "index = /a\nindex = /b"])
  func badConfigFileExits78NamingTheLine(_ text: String) throws {
    let config = try write(text, suffix: ".conf")
    defer { try? FileManager.default.removeItem(atPath: config) }
    let r = try runProcess(Binaries.searchd, ["--config", config, "--listen", "127.0.0.1:0"], timeout: 20)
    #expect(r.status == 78)
    #expect(r.stderr.contains(config))
  }

  @Test func statusShowsTheFigures() throws {
    let daemon = try Daemon()
    let port = "\(daemon.appPort)"
    _ = try searchctl(["search", "-p", port, "morpheus"])
    _ = try searchctl(["search", "-p", port, "nothing"])
    let bad = try TestClient(port: daemon.appPort)
    try bad.send(Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array("x".utf8)))
    _ = try bad.readMessage()
    let r = try searchctl(["status", "-p", port])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("search_hit 1"))
    #expect(r.stdout.contains("search_miss 1"))
    #expect(r.stdout.contains("bad-json 1"))
    #expect(r.stdout.contains("3 entries from built-in"))
    #expect(r.stdout.contains("loop 0:"))
    #expect(r.stdout.contains("loop 1:"))
    let json = try searchctl(["stats", "--json", "-p", port])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    let stats = try #require((object["content"] as? [String: Any])?["stats"] as? [String: Any])
    #expect((stats["connections"] as? [String: Any])?["total"] as? Int ?? 0 >= 4)
  }
}
