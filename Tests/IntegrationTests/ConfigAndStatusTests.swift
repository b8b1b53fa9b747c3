import Foundation
import SearchdWire
import TestSupport
import Testing

/// The config file (flags win over it) and the stats admin action.
@Suite(.timeLimit(.minutes(2))) struct ConfigAndStatusTests {
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

  @Test(arguments: ["bogus-key = 1", "no equals sign", "threads = many", "index = /a\nindex = /b"])
  func badConfigFileExits78NamingTheLine(_ text: String) throws {
    let config = try write(text, suffix: ".conf")
    defer { try? FileManager.default.removeItem(atPath: config) }
    let r = try runProcess(Binaries.searchd, ["--config", config, "--listen", "127.0.0.1:0"], timeout: 20)
    #expect(r.status == 78)
    #expect(r.stderr.contains(config))
  }

  @Test func missingConfigFileMeansDefaults() throws {
    let daemon = try Daemon(["--config", "/nonexistent/searchd.conf"])
    let r = try searchctl(["search", "-p", "\(daemon.appPort)", "morpheus"])
    #expect(r.status == 0)
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
