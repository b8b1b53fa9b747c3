import Foundation
import Glibc
import SearchdWire
import Testing

@testable import IntegrationSupport

/// Listeners behind a balancer: the PROXY header (v1 and v2), from hand-made bytes and
/// from Debian's HAProxy 2.6 (send-proxy-v2, TLS passed through).
@Suite(.daemonSuite) struct ProxyProtocolTests {
  private let morpheus = "Follow the white rabbit. \u{1F430}"
  static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

  /// A v2 PROXY header for a TCP/IPv4 client (LOCAL when `client` is nil).
  static func v2(client: [UInt8]?, port: UInt16 = 4444) -> [UInt8] {
    guard let client else { return signature + [0x20, 0x00, 0, 0] }
    return signature + [0x21, 0x11, 0, 12] + client + [127, 0, 0, 1] + [
      UInt8(port >> 8), UInt8(port & 0xFF), 0xFF, 0x98,
    ]
  }

  private func proxyPort(_ daemon: Daemon) throws -> UInt16 {
    let line = try #require(daemon.waitForLog("searchd ready", timeout: 5))
    let r = try #require(line.range(of: "app-proxy=127.0.0.1:"))
    return try #require(UInt16(line[r.upperBound...].prefix { $0.isNumber }))
  }

  private func failures(_ daemon: Daemon) throws -> [String: Int] {
    try #require(try daemon.stats()["proxy_failures"] as? [String: Int])
  }

  /// A systemd socket named `echo-proxy` (systemd-socket-activate passes it as systemd
  /// would): the bytes that arrive in the same read as the header are echoed, not dropped.
  @Test func bytesThatComeWithTheHeaderAreEchoedOnAnEchoProxySocket() throws {
    let port = try unusedPort()
    let p = ChildProcess()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-socket-activate")
    p.arguments = [
      "-l", "127.0.0.1:\(port)", "--fdname=echo-proxy", Binaries.searchd.path, "--log-target", "stderr", "--threads",
      "1",
    ]
    var env = ProcessInfo.processInfo.environment
    for k in ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET"] { env[k] = nil }
    p.environment = env
    let log = LineCollector()
    try log.start(p)
    defer {
      kill(p.processIdentifier, SIGTERM)
      p.waitUntilExit()
    }
    #expect(log.waitFor("Listening on", timeout: 10) != nil, "\(log.text)")
    // Sent before searchd even runs (it is started by this connection), so the header and
    // the first bytes are in the socket together when searchd reads the header.
    let c = try TestClient(port: port)
    try c.send(Array("PROXY TCP4 192.0.2.7 127.0.0.1 5555 65433\r\nhello, echo".utf8))
    try c.socket.shutdown(.write)
    #expect(String(decoding: try c.readAll(timeout: 10), as: UTF8.self) == "hello, echo", "\(log.text)")
  }

  @Test func theClientAddressFromAV1OrV2HeaderIsThePeerEverywhere() throws {
    let daemon = try Daemon(["--proxy-listen", "127.0.0.1:0"])
    defer { daemon.stop() }
    let port = try proxyPort(daemon)
    for (header, peer) in [
      (Array("PROXY TCP4 192.0.2.7 127.0.0.1 5555 65432\r\n".utf8), "192.0.2.7:5555"),
      (Self.v2(client: [198, 51, 100, 9]), "198.51.100.9:4444"),
      (Array("PROXY TCP6 2001:db8::7 ::1 6666 65432\r\n".utf8), "[2001:db8::7]:6666"),
    ] {
      let c = try TestClient(port: port)
      try c.send(header + Request.encodeSearch("morpheus"))
      #expect(try c.readMessage() == Reply.result(morpheus))
      // `stats` follows the client's address: a remote client is refused it.
      try c.send(Request.encodeSearch("", action: "stats"))
      #expect(replyFields(try #require(try c.readMessage())).error == "not-permitted", "\(peer)")
      c.close()
      #expect(daemon.waitForLog("searchd_peer=\(peer)", timeout: 5) != nil, "the log names \(peer)")
    }
    // A client the header says is local may ask for stats, as a local peer may.
    let local = try TestClient(port: port)
    try local.send(Self.v2(client: [127, 0, 0, 9]) + Request.encodeSearch("", action: "stats"))
    #expect(replyFields(try #require(try local.readMessage())).error == nil)
    // A balancer's health check (LOCAL): served as the balancer's own connection.
    let check = try TestClient(port: port)
    try check.send(Self.v2(client: nil) + Request.encodeSearch("ring"))
    #expect(try check.readMessage() != nil)
    // searchctl bench standing in for a balancer: a header on each connection, the probe's too.
    for mode in ["keepalive", "per-connection"] {
      let bench = try searchctl(["bench", "-p", "\(port)", "--proxy-header", "-c", "3", "-n", "60", "--mode", mode])
      #expect(bench.status == 0 && bench.stdout.contains("60 replies verified"), "\(bench.stdout)\(bench.stderr)")
    }
    #expect(try failures(daemon).values.reduce(0, +) == 0)
  }

  /// The first read on a plain PROXY listener takes the header and what follows it: the
  /// bytes after the header are the client's, however the segments fall.
  @Test func aHeaderInPiecesAndAFirstRequestPastTheFirstReadAreServedWhole() throws {
    let daemon = try Daemon(["--proxy-listen", "127.0.0.1:0"])
    defer { daemon.stop() }
    let port = try proxyPort(daemon)
    let header = Self.v2(client: [203, 0, 113, 5])
    let content = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let big = Request.encodeBinary(content)
    let search = Request.encodeSearch("morpheus")
    // The header in two pieces, the second with a request longer than one read and another.
    let c = try TestClient(port: port)
    try c.send(Array(header[..<10]))
    try c.send(Array(header[10...]) + big + search)
    #expect(try c.readMessage() == Reply.binary(echoing: content))
    #expect(try c.readMessage() == Reply.result(morpheus))
    // The header alone, the requests after it.
    let d = try TestClient(port: port)
    try d.send(header)
    try d.send(search + big)
    #expect(try d.readMessage() == Reply.result(morpheus))
    #expect(try d.readMessage() == Reply.binary(echoing: content))
    #expect(daemon.waitForLog("searchd_peer=203.0.113.5:4444", timeout: 5) != nil)
    #expect(try failures(daemon).values.reduce(0, +) == 0)
  }

  /// TCP_DEFER_ACCEPT on PROXY listeners: the kernel hands a connection over with its
  /// header, so connections that have sent nothing hold no descriptor in the daemon.
  @Test func aConnectionIsAcceptedWhenItsHeaderComes() throws {
    let daemon = try Daemon(["--proxy-listen", "127.0.0.1:0"])
    defer { daemon.stop() }
    let port = try proxyPort(daemon)
    let bystander = try daemon.servedBystander()
    let fds = daemon.openFDCount
    let silent = try (0..<20).map { _ in try TestClient(port: port) }
    Thread.sleep(forTimeInterval: 0.5)
    #expect(daemon.openFDCount == fds, "no descriptor for a connection before its header")
    for (i, c) in silent.enumerated() {
      try c.send(Self.v2(client: [198, 51, 100, UInt8(i)]) + Request.encodeSearch("morpheus"))
      #expect(try c.readMessage() == Reply.result(morpheus))
    }
    #expect(daemon.openFDCount == fds + silent.count)
    bystander.close()
  }

  @Test func untrustedForgedTruncatedAndLocalHeadersAreClosedAndCounted() throws {
    let daemon = try Daemon([
      "--proxy-listen", "127.0.0.1:0", "--request-timeout", "1", "--no-proxy-allow-local",
      "--proxy-trusted-from", "127.0.0.0/8",
    ])
    defer { daemon.stop() }
    let port = try proxyPort(daemon)
    let bystander = try daemon.servedBystander()
    let (fds, rss) = (daemon.openFDCount, daemon.rssKiB)

    // No header where one is required, a forged one after real data, garbage.
    for bytes in [
      Request.encodeSearch("morpheus"), Array("GET / HTTP/1.0\r\n\r\n".utf8), Array("PROXY TCP4 1.2.3\r\n".utf8),
    ] {
      let c = try TestClient(port: port)
      try c.send(bytes)
      #expect(try c.readMessage() == nil, "closed without a reply")
    }
    // A header, then a request, then a second header: the second is the client's data,
    // never a new identity (here not a valid frame: an error reply, then the close).
    let twice = try TestClient(port: port)
    try twice.send(Self.v2(client: [192, 0, 2, 1]) + Request.encodeSearch("ring") + Self.v2(client: [10, 0, 0, 1]))
    #expect(try twice.readMessage() != nil)
    #expect(replyFields(try #require(try twice.readMessage())).error != nil)
    // Half a header, then the close; half a header, then silence past request-timeout.
    let half = try TestClient(port: port)
    try half.send(Array(Self.v2(client: [192, 0, 2, 1]).prefix(10)))
    half.close()
    let stalled = try TestClient(port: port)
    try stalled.send(Array("PROXY TCP4 192.0.2.1 ".utf8))
    #expect(try stalled.hasInput(within: 3), "closed at request-timeout")
    // LOCAL where it is not allowed.
    let local = try TestClient(port: port)
    try local.send(Self.v2(client: nil) + Request.encodeSearch("ring"))
    #expect(try local.readMessage() == nil)

    #expect(
      try daemonWait(5) {
        let f = try failures(daemon)
        return f["malformed"] == 3 && f["truncated"] == 1 && f["timeout"] == 1 && f["local"] == 1
      }, "\((try? failures(daemon)) ?? [:])")
    #expect(daemon.logText.contains("searchd_proxy_error=malformed"))
    try daemon.expectUnharmed(bystander: bystander, fds: fds, rssKiB: rss)
  }

  @Test func aPeerOutsideTheTrustedBlocksIsRefusedBeforeAByteIsRead() throws {
    let daemon = try Daemon(["--proxy-listen", "127.0.0.1:0", "--proxy-trusted-from", "10.0.0.0/8,2001:db8::/32"])
    defer { daemon.stop() }
    let c = try TestClient(port: try proxyPort(daemon))
    try c.send(Self.v2(client: [192, 0, 2, 1]) + Request.encodeSearch("ring"))
    #expect(try c.readMessage() == nil)
    #expect(try daemonWait(5) { try failures(daemon)["untrusted"] == 1 })
  }

  /// HAProxy in TCP mode sends the header (send-proxy-v2), then passes the bytes through:
  /// plaintext, and TLS that searchd itself terminates.
  @Test func behindHAProxyTheClientsOwnAddressIsThePeer() throws {
    let certs = try Certificates()
    let daemon = try Daemon([
      "--proxy-listen", "127.0.0.1:0", "--proxy-tls-listen", "127.0.0.1:0", "--tls-certificate",
      certs.path("server"), "--tls-key", certs.key("server"),
    ])
    defer { daemon.stop() }
    let line = try #require(daemon.waitForLog("searchd ready", timeout: 5))
    func port(_ name: String) throws -> UInt16 {
      let r = try #require(line.range(of: " \(name)=127.0.0.1:") ?? line.range(of: "=\(name)=127.0.0.1:"))
      return try #require(UInt16(line[r.upperBound...].prefix { $0.isNumber }))
    }
    let (plain, tls) = (try port("app-proxy"), try port("app-tls-proxy"))
    let (front, frontTLS) = (try unusedPort(), try unusedPort())
    let haproxy = try HAProxy(
      config: """
        global
          maxconn 1000
        defaults
          mode tcp
          timeout connect 5s
          timeout client 30s
          timeout server 30s
        frontend plain
          bind 127.0.0.1:\(front)
          default_backend searchd
        backend searchd
          server s1 127.0.0.1:\(plain) send-proxy-v2
        frontend tls
          bind 127.0.0.1:\(frontTLS)
          default_backend searchd-tls
        backend searchd-tls
          server s1 127.0.0.1:\(tls) send-proxy-v2
        """)
    #expect(haproxy.waitForListener(front) && haproxy.waitForListener(frontTLS), "haproxy: \(haproxy.logText)")

    // The client binds 127.0.0.2; HAProxy connects to searchd from 127.0.0.1.
    let bench = try searchctl(["bench", "-p", "\(front)", "-c", "4", "-n", "400", "--bind", "127.0.0.2"])
    #expect(bench.status == 0, "\(bench.stdout)\(bench.stderr)")
    #expect(bench.stdout.contains("400 replies verified"), "\(bench.stdout)")
    let overTLS = try searchctl(
      ["search", "-p", "\(frontTLS)", "--tls", "--cacert", certs.path("ca"), "--servername", "localhost", "morpheus"])
    #expect(overTLS.status == 0 && overTLS.stdout == morpheus + "\n", "\(overTLS.stderr)")
    #expect(daemon.waitForLog("searchd_peer=127.0.0.2:", timeout: 5) != nil, "the client's own address is logged")
    // The bench's 4 connections and its probe were accepted as 127.0.0.2, never as HAProxy's 127.0.0.1.
    let accepted = daemon.logText.split(separator: "\n").filter { $0.contains("connection accepted") }
    #expect(accepted.filter { $0.contains("searchd_peer=127.0.0.2:") }.count == 5, "\(accepted)")
    let counted = try failures(daemon)
    #expect(counted.values.reduce(0, +) == 0, "\(counted)")
  }

  private func daemonWait(_ timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if try condition() { return true }
      usleep(50_000)
    }
    return try condition()
  }
}
