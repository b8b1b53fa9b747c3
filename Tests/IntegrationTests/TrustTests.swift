import Foundation
import Glibc
import SearchdWire
import Testing

@testable import IntegrationSupport

/// What an adversarial operator or client tried (issue 22), each as they tried it: the
/// allow-list, reloads in quick succession or of files that are gone or not files, the
/// admin listener under a full server, empty values, and writes into the mapped index.
@Suite(.daemonSuite) struct TrustTests {
  private let folder = TestFolder("searchd-trust")

  private func path(_ name: String) -> String { folder.path(name) }
  private func write(_ text: String, to name: String) throws -> String { try folder.write(text, to: name) }
  private func compiled(_ name: String, _ entries: [String: String]) throws -> String {
    try folder.compiled(name, entries)
  }

  /// A JSON index of `count` generated keys and `extra`, big enough that loading it takes
  /// a debug build a while. Written by Python: quick whatever the tests' build (sanitizers).
  private func bigJSON(_ name: String, count: Int, extra: [String: String]) throws -> String {
    let script = """
      import json, sys
      entries = {f"key-{i}": f"value number {i} of the big index" for i in range(int(sys.argv[2]))}
      entries.update(json.loads(sys.argv[3]))
      open(sys.argv[1], "w").write(json.dumps(entries))
      """
    let extraJSON = String(decoding: try JSONSerialization.data(withJSONObject: extra), as: UTF8.self)
    let r = try runProcess(
      URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, path(name), "\(count)", extraJSON], timeout: 60)
    #expect(r.status == 0, "\(r.stderr)")
    return path(name)
  }

  private func search(_ daemon: Daemon, _ key: String) throws -> String? {
    let c = try TestClient(port: daemon.appPort)
    defer { c.close() }
    try c.send(Request.encodeSearch(key))
    return replyFields(try c.readMessage()!).result
  }

  private func count(_ needle: String, in daemon: Daemon) -> Int {
    daemon.logText.components(separatedBy: needle).count - 1
  }

  /// Waits until `needle` has been logged `n` times; true if it was within `timeout` seconds.
  private func waitForLog(_ daemon: Daemon, _ needle: String, times n: Int, timeout: Double) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while count(needle, in: daemon) < n && Date() < deadline { usleep(20_000) }
    return count(needle, in: daemon) >= n
  }

  private func metrics(_ port: UInt16) throws -> String {
    let reply = try AdminHTTP.get(port, "/metrics")
    return String(reply[try #require(reply.range(of: "\r\n\r\n")).upperBound...])
  }

  // MARK: 1. The allow-list

  /// `optional` with a list: mallory (same CA, not listed) and a client with no
  /// certificate at all are both refused, for search and for stats; alice is served.
  @Test func anAllowListRefusesAClientWithoutACertificate() throws {
    defer { folder.remove() }
    let certs = try Certificates()
    try certs.issue("alice", cn: "alice", by: "ca")
    try certs.issue("mallory", cn: "mallory", by: "ca")
    let daemon = try Daemon(
      certs.serverFlags + [
        "--tls-client-ca", certs.path("ca"), "--tls-verify-clients", "optional", "--tls-allowed-clients", "alice",
      ])
    defer { daemon.stop() }
    let morpheus = "Follow the white rabbit. \u{1F430}"
    let alice = try searchctl(["search"] + certs.clientFlags(port: daemon.tlsPort, client: "alice") + ["morpheus"])
    #expect(alice.status == 0 && alice.stdout == morpheus + "\n", "\(alice.stderr)")
    for client in ["mallory", nil] as [String?] {
      let flags = certs.clientFlags(port: daemon.tlsPort, client: client)
      let search = try searchctl(["search"] + flags + ["morpheus"])
      #expect(search.status != 0 && !search.stdout.contains("rabbit"), "\(client ?? "no certificate"): \(search)")
      let stats = try searchctl(["status"] + flags)
      #expect(stats.status != 0 && !stats.stdout.contains("uptime"), "\(client ?? "no certificate"): \(stats)")
    }
    let status = try searchctl(["status", "--json", "-p", "\(daemon.appPort)"])
    let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    let tls = ((object?["content"] as? [String: Any])?["stats"] as? [String: Any])?["tls"] as? [String: Any]
    let failures = try #require(tls?["failures"] as? [String: Int])
    #expect((failures["no-certificate"] ?? 0) > 0, "\(failures)")
    #expect((failures["not-allowed"] ?? 0) > 0, "\(failures)")
  }

  /// `none` asks for no certificate, so no list can be enforced: refused at start,
  /// naming both settings, as a configuration error.
  @Test(arguments: ["tls-allowed-clients", "tls-admin-clients"])
  func anAllowListThatCannotBeEnforcedStopsTheStart(_ list: String) throws {
    let certs = try Certificates()
    let r = try runProcess(
      Binaries.searchd,
      certs.serverFlags + [
        "--listen", "127.0.0.1:0", "--tls-client-ca", certs.path("ca"), "--tls-verify-clients", "none",
        "--\(list)", "alice",
      ], timeout: 20)
    #expect(r.status == 78, "\(r.stderr)")
    #expect(r.stderr.contains(list) && r.stderr.contains("tls-verify-clients none"), "\(r.stderr)")
    #expect(!r.stderr.contains("ready"))
  }

  // MARK: 2, 3, 8. Reloads

  /// A slow reload (a big JSON file) then a fast one 20 ms later: the second SIGHUP's
  /// file is the one left serving, installed after the first.
  @Test func backToBackReloadsEndOnTheLastSIGHUPsFile() throws {
    defer { folder.remove() }
    let live = try compiled("live.idx", ["which": "first"])
    let big = try bigJSON("big.json", count: 200_000, extra: ["which": "big"])
    let small = try compiled("small.idx", ["which": "small"])
    let daemon = try Daemon(["--index", live])
    defer { daemon.stop() }
    #expect(rename(big, live) == 0)
    daemon.signal(SIGHUP)
    usleep(20_000)
    #expect(rename(small, live) == 0)
    daemon.signal(SIGHUP)
    #expect(waitForLog(daemon, "reloaded the index", times: 2, timeout: 120), "\(daemon.logText.suffix(1000))")
    #expect(try search(daemon, "which") == "small")
    let installs = daemon.logText.split(separator: "\n").filter { $0.contains("reloaded the index") }
    #expect(installs.last?.contains("searchd_index_entries=1") == true, "\(installs)")
  }

  /// The config file removed, then SIGHUP: every setting and the index stay, and the
  /// reload is an error naming the file (not "serving the built-in index").
  @Test func aReloadWhoseConfigFileIsGoneKeepsEverything() throws {
    defer { folder.remove() }
    let index = try write(#"{"neo": "from the file"}"#, to: "index.json")
    let config = try write("index = \(index)\n", to: "searchd.conf")
    let daemon = try Daemon(["--config", config, "--admin-listen", "127.0.0.1:0"])
    defer { daemon.stop() }
    #expect(try search(daemon, "neo") == "from the file")
    try FileManager.default.removeItem(atPath: config)
    daemon.signal(SIGHUP)
    let line = try #require(daemon.waitForLog("reload failed", timeout: 10), "\(daemon.logText.suffix(500))")
    #expect(line.contains(" error ") && line.contains(config) && line.contains("no such file"), "\(line)")
    #expect(!daemon.logText.contains("built-in"))
    #expect(try search(daemon, "neo") == "from the file")
    // The reload thread counts its outcome just after logging it.
    var count: Double?
    for _ in 0..<100 {
      count = AdminHTTP.value(try metrics(try daemon.adminPort()), "searchd_reloads_total{outcome=\"config_failed\"}")
      if count == 1 { break }
      usleep(50_000)
    }
    #expect(count == 1)
  }

  /// Each reload outcome is logged with the file and the reason, and counted: a missing
  /// index, a FIFO in its place, then a good file again.
  @Test func everyReloadOutcomeIsLoggedWithItsFileAndCounted() throws {
    defer { folder.remove() }
    let live = try compiled("live.idx", ["neo": "first"])
    let daemon = try Daemon(["--index", live, "--admin-listen", "127.0.0.1:0"])
    defer { daemon.stop() }
    try FileManager.default.removeItem(atPath: live)
    daemon.signal(SIGHUP)
    #expect(waitForLog(daemon, "reload failed", times: 1, timeout: 10))
    #expect(mkfifo(live, 0o600) == 0)
    daemon.signal(SIGHUP)
    #expect(waitForLog(daemon, "reload failed", times: 2, timeout: 10), "a FIFO must not hang the reload")
    let failures = daemon.logText.split(separator: "\n").filter { $0.contains("reload failed") }
    #expect(failures.count == 2 && failures.allSatisfy { $0.contains(live) }, "\(failures)")
    #expect(failures.first?.contains("no such file") == true)
    #expect(failures.last?.contains("FIFO, not a regular file") == true)
    #expect(try search(daemon, "neo") == "first", "the old index serves on")
    try FileManager.default.removeItem(atPath: live)
    _ = try compiled("live.idx", ["neo": "second"])
    daemon.signal(SIGHUP)
    #expect(waitForLog(daemon, "reloaded the index", times: 1, timeout: 10))
    #expect(try search(daemon, "neo") == "second")
    let body = try metrics(try daemon.adminPort())
    #expect(AdminHTTP.value(body, "searchd_reloads_total{outcome=\"index_failed\"}") == 2)
    #expect(AdminHTTP.value(body, "searchd_reloads_total{outcome=\"applied\"}") == 1)
  }

  /// A SIGHUP whose config file changes settings a reload cannot apply says which.
  @Test func aReloadNamesTheSettingsOnlyARestartApplies() throws {
    defer { folder.remove() }
    let config = try write("idle-timeout = 30\n", to: "searchd.conf")
    let daemon = try Daemon(["--config", config])
    defer { daemon.stop() }
    _ = try write("idle-timeout = 5\nmax-connections = 7\n", to: "searchd.conf")
    daemon.signal(SIGHUP)
    let line = try #require(daemon.waitForLog("reload cannot apply", timeout: 10), "\(daemon.logText.suffix(500))")
    #expect(line.contains(" warning ") && line.contains("max-connections, idle-timeout"), "\(line)")
  }

  // MARK: 4. Files that are not files

  @Test func aFIFOAsTheIndexIsRefusedAtStartWithoutBlocking() throws {
    defer { folder.remove() }
    let fifo = path("index.fifo")
    #expect(mkfifo(fifo, 0o600) == 0)
    let r = try runProcess(Binaries.searchd, ["--listen", "127.0.0.1:0", "--index", fifo], timeout: 20)
    #expect(r.status == 78, "\(r.stderr)")
    #expect(r.stderr.contains("cannot load index \(fifo): it is a FIFO, not a regular file"), "\(r.stderr)")
    let config = try write("index = \(folder.path)\n", to: "dir.conf")
    let dir = try runProcess(Binaries.searchd, ["--listen", "127.0.0.1:0", "--config", config], timeout: 20)
    #expect(dir.status == 78 && dir.stderr.contains("a directory, not a regular file"), "\(dir.stderr)")
  }

  /// SIGTERM while a reload is still loading a big index (800,000 keys) ends searchd at once too.
  @Test func aStopSignalDuringAReloadsIndexLoadEndsSearchdPromptly() throws {
    defer { folder.remove() }
    let live = try write(#"{"neo": "small"}"#, to: "live.json")
    let big = try bigJSON("big.json", count: 800_000, extra: [:])
    let daemon = try Daemon(["--index", live])
    #expect(rename(big, live) == 0)
    daemon.signal(SIGHUP)
    usleep(100_000)
    let sent = Date()
    daemon.signal(SIGTERM)
    let status = daemon.waitForExit(timeout: 5)
    #expect(status == 0, "exit \(String(describing: status)) \(Date().timeIntervalSince(sent)) s after SIGTERM")
    #expect(!daemon.logText.contains("reloaded the index"), "the signal came during the load")
  }

  /// SIGTERM while a big index is still loading ends searchd at once, before it serves.
  @Test func aStopSignalDuringTheFirstIndexLoadEndsSearchdPromptly() throws {
    defer { folder.remove() }
    let big = try bigJSON("big.json", count: 800_000, extra: [:])
    let p = ChildProcess()
    p.executableURL = Binaries.searchd
    p.arguments = ["--listen", "127.0.0.1:0", "--index", big, "--log-target", "stderr", "--threads", "1"]
    let log = LineCollector()
    let pipe = Pipe()
    p.standardError = pipe
    p.standardOutput = FileHandle.nullDevice
    log.follow(pipe.fileHandleForReading)
    try p.run()
    #expect(log.waitFor("searchd starting", timeout: 10) != nil)
    usleep(100_000)
    let sent = Date()
    kill(p.processIdentifier, SIGTERM)
    while p.isRunning && Date().timeIntervalSince(sent) < 5 { usleep(10_000) }
    let ended = !p.isRunning
    if !ended { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
    log.waitUntilClosed(timeout: 5)
    #expect(ended, "still running 5 s after SIGTERM")
    #expect(log.text.contains("stopped while loading the index"), "\(log.text)")
    #expect(!log.text.contains("searchd ready"))
  }

  // MARK: 5. The admin listener under a full server

  /// max-connections full of search clients: /healthz, /readyz and /metrics still 200.
  /// The admin listener's own limit turns its excess away with a 503, and only it.
  @Test func theAdminListenerAnswersWhileTheSearchListenersAreFull() throws {
    let daemon = try Daemon(
      ["--max-connections", "8", "--admin-listen", "127.0.0.1:0", "--admin-max-connections", "2"])
    defer { daemon.stop() }
    let port = try daemon.adminPort()
    let clients = try (0..<8).map { _ in try TestClient(port: daemon.appPort) }
    for c in clients {
      try c.send(Request.encodeSearch("morpheus"))
      #expect(replyFields(try c.readMessage()!).result != nil)
    }
    let ninth = try TestClient(port: daemon.appPort)
    #expect(replyFields(try ninth.readMessage()!).error == "too-many-connections")
    for path in ["/healthz", "/readyz", "/metrics"] {
      let reply = try AdminHTTP.get(port, path)
      #expect(reply.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(path): \(reply.prefix(200))")
    }
    let slow = try (0..<2).map { _ in try TestClient(port: port) }
    for c in slow { try c.send(Array("GET /healthz HTTP/1.1\r\n".utf8)) }
    // Both counted before the third comes: wait until the daemon shows 2 admin connections.
    let deadline = Date().addingTimeInterval(5)
    var third = ""
    repeat {
      third = try AdminHTTP.get(port, "/healthz")
    } while !third.hasPrefix("HTTP/1.1 503 ") && Date() < deadline
    #expect(third.hasPrefix("HTTP/1.1 503 ") && third.contains("admin-max-connections"), "\(third)")
    try clients[0].send(Request.encodeSearch("ring"))
    #expect(replyFields(try clients[0].readMessage()!).result != nil, "search goes on")
    for c in slow { c.close() }
    var after = ""
    repeat {
      after = try AdminHTTP.get(port, "/healthz")
    } while !after.hasPrefix("HTTP/1.1 200 ") && Date() < deadline.addingTimeInterval(5)
    #expect(after.hasPrefix("HTTP/1.1 200 "), "\(after)")
  }

  // MARK: 6. Empty values

  @Test(arguments: ["index =", "tls-certificate =", "tls-allowed-clients =", "index = \"\""])
  func anEmptyValueIsRefusedNamingTheFileAndLine(_ line: String) throws {
    defer { folder.remove() }
    let config = try write("# searchd\n\(line)\n", to: "empty.conf")
    let r = try runProcess(Binaries.searchd, ["--listen", "127.0.0.1:0", "--config", config], timeout: 20)
    let name = line.split(separator: " ")[0]
    #expect(r.status == 78, "\(r.stderr)")
    #expect(r.stderr.contains("\(config):2: \(name) must be"), "\(r.stderr)")
  }

  @Test func aMissingConfigFileIsRefusedNamingIt() throws {
    let missing = path("nowhere.conf")
    let r = try runProcess(Binaries.searchd, ["--listen", "127.0.0.1:0", "--config", missing], timeout: 20)
    #expect(r.status == 78, "\(r.stderr)")
    #expect(r.stderr.contains("\(missing): no such file"), "\(r.stderr)")
  }

  // MARK: 7. Writes into the mapped index

  /// `truncate -s 0` and `cp other live` into the file searchd maps: seen at once, in the
  /// log, the stats and /metrics, and /readyz turns 503; renaming a good file over it and
  /// reloading clears it.
  @Test(arguments: ["truncate", "copy"])
  func writingIntoTheMappedIndexIsSeenAtOnce(_ how: String) throws {
    defer { folder.remove() }
    let live = try compiled("live.idx", ["neo": "first"])
    let other = try compiled("other.idx", ["neo": "second", "trinity": "third"])
    let daemon = try Daemon(["--index", live, "--admin-listen", "127.0.0.1:0"])
    defer { daemon.stop() }
    let port = try daemon.adminPort()
    #expect(try AdminHTTP.get(port, "/readyz").hasPrefix("HTTP/1.1 200 "))
    let handle = try #require(FileHandle(forWritingAtPath: live))
    try handle.truncate(atOffset: 0)
    if how == "copy" { try handle.write(contentsOf: try Data(contentsOf: URL(fileURLWithPath: other))) }
    try handle.close()
    let line = try #require(daemon.waitForLog("written to in place", timeout: 5), "\(daemon.logText.suffix(500))")
    #expect(line.contains(" error ") && line.contains(live) && line.contains("8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e08"))
    #expect(try AdminHTTP.get(port, "/readyz").hasPrefix("HTTP/1.1 503 "))
    #expect(AdminHTTP.value(try metrics(port), "searchd_index_file_modified") == 1)
    let status = try searchctl(["status", "-p", "\(daemon.appPort)"])
    #expect(status.stdout.contains("FILE WRITTEN IN PLACE"), "\(status.stdout)")
    // Survived: the truncated file's lost pages read as zeros (a miss), not a SIGBUS; the
    // copy's bytes are read within the layout validated at load.
    let answer = try search(daemon, "neo")
    if how == "truncate" {
      #expect(answer == "No match for \"neo\".")
      #expect((AdminHTTP.value(try metrics(port), "searchd_index_pages_zeroed_total") ?? 0) > 0)
    } else {
      #expect(answer != nil)
    }
    #expect(daemon.process.isRunning)

    let fresh = try compiled("fresh.idx", ["neo": "fresh"])
    #expect(rename(fresh, live) == 0)
    daemon.signal(SIGHUP)
    #expect(daemon.waitForLog("reloaded the index", timeout: 10) != nil)
    #expect(try search(daemon, "neo") == "fresh")
    #expect(try AdminHTTP.get(port, "/readyz").hasPrefix("HTTP/1.1 200 "), "\(daemon.logText)")
    #expect(AdminHTTP.value(try metrics(port), "searchd_index_file_modified") == 0)
  }
}
