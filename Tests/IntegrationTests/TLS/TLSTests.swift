import Foundation
import Glibc
import SearchdWire
import Testing

@testable import IntegrationSupport

/// searchd's TLS listener with certificates made by openssl, driven by searchctl, by the
/// tutorial's client logic wrapped in Python's ssl module, and by openssl s_client.
@Suite(.daemonSuite) struct TLSTests {
  private let morpheus = "Follow the white rabbit. \u{1F430}"

  /// The tutorial's client's framing (its JSON header, a 2-byte length), as Python
  /// functions over a connected `sock`: `ask(sock, action, value)` returns the reply's
  /// content. For the scripts below.
  static let tutorialFraming = """
    import json, struct, sys
    def recv_exactly(sock, n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise SystemExit("closed early")
            data += chunk
        return data
    def ask(sock, action, value):
        content = json.dumps({"action": action, "value": value}, ensure_ascii=False).encode("utf-8")
        header = json.dumps({"byteorder": sys.byteorder, "content-type": "text/json",
                             "content-encoding": "utf-8", "content-length": len(content)}, ensure_ascii=False).encode("utf-8")
        sock.sendall(struct.pack(">H", len(header)) + header + content)
        reply_header = json.loads(recv_exactly(sock, struct.unpack(">H", recv_exactly(sock, 2))[0]))
        return json.loads(recv_exactly(sock, reply_header["content-length"]).decode(reply_header["content-encoding"]))

    """

  /// The tutorial's client over Python's ssl module: one search per value, each reply's
  /// result printed on a line.
  static let tutorialClient =
    tutorialFraming + """
      import socket, ssl
      port, ca, values = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
      context = ssl.create_default_context(cafile=ca)
      sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="localhost")
      for value in values:
          print(sock.version(), ask(sock, "search", value)["result"])
      """

  private func stats(_ daemon: Daemon) throws -> [String: Any] {
    let r = try searchctl(["status", "-p", "\(daemon.appPort)", "--json"])
    let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    let content = object?["content"] as? [String: Any]
    return try #require(content?["stats"] as? [String: Any], "\(r.stdout)\(r.stderr)")
  }

  private func tlsFailures(_ daemon: Daemon) throws -> [String: Int] {
    let tls = try #require(try stats(daemon)["tls"] as? [String: Any])
    return try #require(tls["failures"] as? [String: Int])
  }

  @Test func theTutorialsClientAndOpensslSearchOverTLS() throws {
    let certs = try Certificates()
    let daemon = try Daemon(certs.serverFlags)
    defer { daemon.stop() }
    #expect(daemon.tlsPort != 0)
    let python = try runProcess(
      URL(fileURLWithPath: "/usr/bin/python3"),
      ["-c", Self.tutorialClient, "\(daemon.tlsPort)", certs.path("ca"), "morpheus", "needle", "\u{1F436}"])
    #expect(python.status == 0, "\(python.stderr)")
    #expect(
      python.stdout
        == "TLSv1.3 \(morpheus)\nTLSv1.3 No match for \"needle\".\nTLSv1.3 \u{1F43E} Playing ball! \u{1F3D0}\n")

    let r = try searchctl(["search"] + certs.clientFlags(port: daemon.tlsPort) + ["morpheus"])
    #expect(r.status == 0 && r.stdout == morpheus + "\n", "\(r.stderr)")

    // openssl s_client: the certificate checks out against the CA, and TLS 1.2 is still spoken.
    for version in ["-tls1_3", "-tls1_2"] {
      let s = try runProcess(
        URL(fileURLWithPath: "/usr/bin/openssl"),
        [
          "s_client", "-connect", "127.0.0.1:\(daemon.tlsPort)", "-CAfile", certs.path("ca"), "-verify_return_error",
          "-brief", version,
        ], stdin: Data(), timeout: 30)
      #expect(s.stderr.contains("Verification: OK"), "\(version): \(s.stderr)")
      #expect(s.stderr.contains(version == "-tls1_3" ? "TLSv1.3" : "TLSv1.2"), "\(s.stderr)")
      // The server's preference, not the client's: s_client offers AES-256 with SHA-384 first.
      if version == "-tls1_3" {
        #expect(s.stderr.contains("Ciphersuite: TLS_AES_128_GCM_SHA256"), "\(s.stderr)")
      }
    }
    let tls = try #require(try stats(daemon)["tls"] as? [String: Any])
    #expect((tls["handshakes"] as? Int ?? 0) >= 4)
  }

  @Test func clientCertificatesDecideWhoIsServed() throws {
    let certs = try Certificates()
    try certs.makeCA("other-ca")
    try certs.issue("alice", cn: "alice", by: "ca")
    try certs.issue("bob-san", cn: "bob", by: "ca", extensions: "subjectAltName=DNS:bob.example,URI:spiffe://x/bob")
    try certs.issue("mallory", cn: "mallory", by: "ca")
    try certs.issue("stranger", cn: "alice", by: "other-ca")
    try certs.issue("expired", cn: "alice", by: "ca", days: -1)
    let daemon = try Daemon(
      certs.serverFlags + ["--tls-client-ca", certs.path("ca"), "--tls-allowed-clients", "alice,bob.example"])
    defer { daemon.stop() }
    let cases: [(client: String?, served: Bool, says: String)] = [
      (nil, false, "the server wants a client certificate"),
      ("stranger", false, "the server did not accept --cert"),
      ("expired", false, "certificate expired"),
      ("mallory", false, "the server did not accept --cert"),
      ("alice", true, ""),
      ("bob-san", true, ""),
    ]
    for c in cases {
      let r = try searchctl(["search"] + certs.clientFlags(port: daemon.tlsPort, client: c.client) + ["morpheus"])
      if c.served {
        #expect(r.status == 0 && r.stdout == morpheus + "\n", "\(c.client ?? "none"): \(r.stderr)")
      } else {
        #expect(r.status == 2, "\(c.client ?? "none") is refused")
        #expect(r.stderr.contains(c.says), "\(c.client ?? "none"): \(r.stderr)")
      }
      // A bystander on the plaintext port is served through each.
      #expect(try searchctl(["search", "-p", "\(daemon.appPort)", "morpheus"]).stdout == morpheus + "\n")
    }
    let failures = try tlsFailures(daemon)
    #expect((failures["no-certificate"] ?? 0) >= 1, "\(failures)")
    #expect((failures["bad-certificate"] ?? 0) >= 2, "\(failures)")
    #expect((failures["not-allowed"] ?? 0) >= 1, "\(failures)")
    #expect(daemon.logText.contains("searchd_tls_error=not-allowed"))
    #expect(daemon.logText.contains("searchd_client=bob"), "SEARCHD_CLIENT names the certificate")
  }

  @Test func plaintextOnTheTLSPortAndTLSOnThePlaintextPortAreClosedCleanly() throws {
    let certs = try Certificates()
    let daemon = try Daemon(certs.serverFlags)
    defer { daemon.stop() }
    // The tutorial's plaintext request on the TLS port: closed (a FIN, not a reset), counted.
    let plain = try TestClient(port: daemon.tlsPort)
    try plain.send(Request.encodeSearch("morpheus"))
    #expect(try plain.ending(within: 5) == .fin, "closed with a FIN, not a reset")
    plain.close()
    #expect(try tlsFailures(daemon)["plaintext"] == 1)
    #expect(daemon.logText.contains("searchd_tls_error=plaintext"))

    // A TLS client on the plaintext port gets the error reply and close a bad header gets.
    let r = try searchctl(["search"] + certs.clientFlags(port: daemon.appPort) + ["morpheus"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("is this a TLS port?"), "\(r.stderr)")
    #expect(try searchctl(["search"] + certs.clientFlags(port: daemon.tlsPort) + ["morpheus"]).status == 0)
  }

  @Test func aStalledHandshakeIsClosedAtItsDeadline() throws {
    let certs = try Certificates()
    let daemon = try Daemon(certs.serverFlags + ["--tls-handshake-timeout", "1"])
    defer { daemon.stop() }
    let silent = try TestClient(port: daemon.tlsPort)
    let half = try TestClient(port: daemon.tlsPort)
    try half.send([22, 3, 1, 0, 200, 1])  // the start of a ClientHello, and no more
    let start = Date()
    #expect(try silent.hasInput(within: 5), "closed")
    #expect(try half.hasInput(within: 5), "closed")
    let took = Date().timeIntervalSince(start)
    #expect(took >= 0.9 && took <= 2.5, "closed \(took) s after the 1 s deadline (sweeps run every 0.25 s)")
    #expect(try silent.readMessage() == nil)
    #expect(try tlsFailures(daemon)["timeout"] == 2)
    #expect(try searchctl(["search"] + certs.clientFlags(port: daemon.tlsPort) + ["morpheus"]).status == 0)
  }

  @Test func randomBytesOnTheTLSPortCloseOnlyTheirConnection() throws {
    let certs = try Certificates()
    // A prefix of a plausible record makes OpenSSL wait for the rest: the deadline closes those.
    let daemon = try Daemon(certs.serverFlags + ["--tls-handshake-timeout", "2"])
    defer { daemon.stop() }
    var generator = SystemRandomNumberGenerator()
    var clients: [TestClient] = []
    for n in 0..<40 {
      let c = try TestClient(port: daemon.tlsPort)
      clients.append(c)
      // Half start like a TLS record, so OpenSSL itself has to refuse them.
      var bytes = (0..<(1 + n * 37)).map { _ in UInt8.random(in: 0...255, using: &generator) }
      if n % 2 == 0 { bytes[0] = 22 }
      try c.send(bytes)
    }
    for c in clients {
      #expect(try c.hasInput(within: 5), "closed by the deadline at the latest")
      c.close()
    }
    #expect(try searchctl(["search"] + certs.clientFlags(port: daemon.tlsPort) + ["morpheus"]).status == 0)
    let failures = try tlsFailures(daemon)
    #expect(failures.values.reduce(0, +) >= 20, "\(failures)")
  }

  @Test func reloadSwapsTheCertificateForNewHandshakesOnly() throws {
    let certs = try Certificates()
    let daemon = try Daemon(certs.serverFlags)
    defer { daemon.stop() }
    // A session opened before the reload...
    let before = try Client(port: daemon.tlsPort, certs: certs)
    #expect(try before.search("morpheus") == morpheus)

    // ...the certificate files replaced by one from a new CA, then SIGHUP.
    try certs.makeCA("new-ca")
    try certs.issue("new-server", cn: "localhost", by: "new-ca", extensions: "subjectAltName=IP:127.0.0.1")
    try FileManager.default.removeItem(atPath: certs.path("server"))
    try FileManager.default.removeItem(atPath: certs.key("server"))
    try FileManager.default.copyItem(atPath: certs.path("new-server"), toPath: certs.path("server"))
    try FileManager.default.copyItem(atPath: certs.key("new-server"), toPath: certs.key("server"))
    daemon.signal(SIGHUP)
    #expect(daemon.waitForLog("reloaded the TLS certificate", timeout: 10) != nil)
    #expect(
      try searchctl(["search"] + certs.clientFlags(port: daemon.tlsPort, ca: "new-ca") + ["morpheus"]).status == 0)
    let old = try searchctl(["search"] + certs.clientFlags(port: daemon.tlsPort) + ["morpheus"])
    #expect(old.status == 2 && old.stderr.contains("is --cacert right?"), "\(old.stderr)")
    #expect(try before.search("ring") != nil, "the session from before the reload goes on")

    // A broken key keeps the new certificate serving, logged with its own MESSAGE_ID.
    try "not a key".write(toFile: certs.key("server"), atomically: true, encoding: .utf8)
    daemon.signal(SIGHUP)
    #expect(daemon.waitForLog("TLS reload failed", timeout: 10)?.contains("8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e07") == true)
    #expect(
      try searchctl(["search"] + certs.clientFlags(port: daemon.tlsPort, ca: "new-ca") + ["morpheus"]).status == 0)
    before.close()
  }

  @Test func fiveHundredConcurrentHandshakesWhileABystanderIsServed() throws {
    let certs = try Certificates()
    let daemon = try Daemon(certs.serverFlags)
    defer { daemon.stop() }
    let bystander = try daemon.servedBystander()
    func handshakes() throws {
      let bench = ChildProcess()
      bench.executableURL = Binaries.searchctl
      bench.arguments =
        ["bench"] + certs.clientFlags(port: daemon.tlsPort)
        + ["-c", "500", "-n", "1000", "--mode", "per-connection", "--timeout", "60", "--json"]
      let out = Pipe()
      bench.standardOutput = out
      let collected = LineCollector()
      collected.follow(out.fileHandleForReading)
      try bench.run()
      // Served, not served fast: under a sanitizer both programs crawl on two cores. A
      // reply that comes after its wait is read as the next one's; only the count matters.
      var (sent, servedDuring) = (0, 0)
      while bench.isRunning {
        try bystander.send(Request.encodeSearch("ring"))
        sent += 1
        if (try? bystander.readMessage(timeout: 10)) != nil { servedDuring += 1 }
        usleep(20_000)
      }
      // Late replies read now, so the bystander's stream is at a message boundary again.
      for _ in servedDuring..<sent { #expect(try bystander.readMessage(timeout: 30) != nil) }
      #expect(bench.terminationStatus == 0)
      #expect(servedDuring > 0, "the bystander was served while the handshakes ran")
      collected.waitUntilClosed(timeout: 5)
      let report = try JSONSerialization.jsonObject(with: Data(collected.text.utf8)) as? [String: Any]
      #expect(report?["requests"] as? Int == 1000, "\(collected.text)")
      #expect((report?["tls_handshakes"] as? Int ?? 0) >= 1000)
      #expect((report?["errors"] as? [String: Int])?.isEmpty == true, "\(collected.text)")
    }
    // The first round grows the allocator's arenas to 500 sessions' worth (about 20 MiB,
    // kept by malloc once freed); the second must come back to where the first left it.
    // Descriptors are counted against the bystander alone, before either round, and RSS
    // once the first round's connections are all closed (under ASan they close slowly).
    let fds = daemon.openFDCount
    try handshakes()
    #expect(daemon.descriptors(backTo: fds) == fds, "the first round's descriptors closed")
    let rss = daemon.rssKiB
    try handshakes()
    try daemon.expectUnharmed(bystander: bystander, fds: fds, rssKiB: rss)

    // Resumed handshakes: the session of the first connection offered by the next ones.
    let resumed = try runProcess(
      Binaries.searchctl,
      ["bench"] + certs.clientFlags(port: daemon.tlsPort)
        + ["-c", "2", "-n", "50", "--mode", "per-connection", "--tls-resume", "--json", "--timeout", "60"],
      timeout: 240)
    let resumedReport = try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any]
    #expect((resumedReport?["tls_resumed"] as? Int ?? 0) >= 40, "\(resumed.stdout)\(resumed.stderr)")
    let tls = try #require(try stats(daemon)["tls"] as? [String: Any])
    #expect((tls["resumed"] as? Int ?? 0) >= 40, "the server counts them too")
  }

  /// What LoadCredential= gives a service: $CREDENTIALS_DIRECTORY, where bare names are found.
  @Test func bareNamesAreFoundInTheCredentialsDirectory() throws {
    let certs = try Certificates()
    let daemon = try Daemon(
      ["--tls-listen", "127.0.0.1:0", "--tls-certificate", "server.pem", "--tls-key", "server.key"],
      environment: ["CREDENTIALS_DIRECTORY": certs.dir])
    defer { daemon.stop() }
    let r = try searchctl(["search"] + certs.clientFlags(port: daemon.tlsPort) + ["morpheus"])
    #expect(r.status == 0 && r.stdout == morpheus + "\n", "\(r.stderr)")
  }

  @Test func badTLSSettingsStopTheStartWithTheReason() throws {
    let certs = try Certificates()
    let cases: [([String], String)] = [
      (["--tls-listen", "127.0.0.1:0"], "tls-listen needs tls-certificate and tls-key"),
      (certs.serverFlags + ["--tls-verify-clients", "required"], "needs tls-client-ca"),
      (certs.serverFlags + ["--tls-allowed-clients", "alice"], "need tls-client-ca"),
      (
        ["--tls-listen", "127.0.0.1:0", "--tls-certificate", "/nonexistent.pem", "--tls-key", "/x"], "cannot set up TLS"
      ),
    ]
    for (flags, says) in cases {
      let r = try runProcess(
        Binaries.searchd, ["--listen", "127.0.0.1:0", "--log-target", "stderr"] + flags, timeout: 30)
      #expect(r.status != 0, "\(flags)")
      #expect(r.stderr.contains(says), "\(flags): \(r.stderr)")
    }
  }
}

/// A TLS connection kept open across requests: searchctl opens one per command.
private final class Client {
  private let process = ChildProcess()
  private let input = Pipe()
  private let lines = LineCollector()

  init(port: UInt16, certs: Certificates) throws {
    let script = """
      import json, socket, ssl, struct, sys
      context = ssl.create_default_context(cafile=sys.argv[2])
      sock = context.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="localhost")
      def recv_exactly(n):
          data = b""
          while len(data) < n:
              data += sock.recv(n - len(data))
          return data
      for line in sys.stdin:
          content = json.dumps({"action": "search", "value": line.strip()}).encode()
          header = json.dumps({"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8",
                               "content-length": len(content)}).encode()
          sock.sendall(struct.pack(">H", len(header)) + header + content)
          reply_header = json.loads(recv_exactly(struct.unpack(">H", recv_exactly(2))[0]))
          print(json.loads(recv_exactly(reply_header["content-length"]))["result"], flush=True)
      """
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = ["-c", script, "\(port)", certs.path("ca")]
    process.standardInput = input
    let out = Pipe()
    process.standardOutput = out
    lines.follow(out.fileHandleForReading)
    try process.run()
  }

  private var answered = 0

  func search(_ value: String) throws -> String? {
    input.fileHandleForWriting.write(Data((value + "\n").utf8))
    answered += 1
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline {
      let all = lines.text.split(separator: "\n", omittingEmptySubsequences: false)
      if all.count > answered { return String(all[answered - 1]) }
      usleep(20_000)
    }
    return nil
  }

  func close() {
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
  }
}
