import Foundation
import Glibc
import SearchdWire
import Testing

@testable import IntegrationSupport

/// contrib/wireshark/searchd.lua, run by Debian's tshark over a capture this test makes
/// with dumpcap on loopback while it talks to a real searchd: what tshark shows must be
/// what was sent and answered, message for message.
@Suite(.daemonSuite) struct DissectorTests {
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("contrib/wireshark/searchd.lua").path

  /// One row of tshark's fields per message: kind, action, value, result, error, content length.
  typealias Row = [String]

  private func row(
    _ kind: String, action: String = "", value: String = "", result: String = "", error: String = "",
    length: Int
  ) -> Row { [kind, action, value, result, error, "\(length)"] }

  private func contentLength(_ message: [UInt8]) -> Int {
    let headerLength = Int(message[0]) << 8 | Int(message[1])
    return message.count - 2 - headerLength
  }

  /// dumpcap on loopback, into a file removed with the value.
  final class Capture {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("searchd-\(UUID()).pcapng").path
    private let dumpcap = ChildProcess()

    init(filter: String) throws {
      dumpcap.executableURL = URL(fileURLWithPath: "/usr/bin/dumpcap")
      dumpcap.arguments = ["-q", "-i", "lo", "-f", filter, "-w", path]
      dumpcap.standardError = FileHandle.nullDevice
      try dumpcap.run()
      // dumpcap writes the file's header once it captures.
      for _ in 0..<100 where (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 == 0 {
        usleep(50_000)
      }
      usleep(300_000)
    }

    /// Stops dumpcap once the last packets are in; whether it has exited.
    func stop() -> Bool {
      usleep(500_000)
      kill(dumpcap.processIdentifier, SIGINT)
      for _ in 0..<200 where dumpcap.isRunning { usleep(50_000) }
      return !dumpcap.isRunning
    }

    deinit {
      kill(dumpcap.processIdentifier, SIGKILL)
      try? FileManager.default.removeItem(atPath: path)
    }
  }

  /// A search over searchd's own TLS listener shows as TLS, never as searchd. The script
  /// hands port 65443 to the TLS dissector (checked in tshark's table); the capture's
  /// listener is on an ephemeral port (65443 belongs to the systemd suite's TLS socket),
  /// so it is decoded as a user decodes any other port.
  @Test func aTLSConnectionShowsAsTLS() throws {
    let decodes = try runProcess(
      URL(fileURLWithPath: "/usr/bin/tshark"), ["-G", "decodes", "-X", "lua_script:\(Self.script)"], timeout: 60)
    let table = decodes.stdout.split(separator: "\n")
    #expect(table.contains("tcp.port\t65443\ttls"), "port 65443 is TLS's")
    #expect(table.contains("tcp.port\t65432\tsearchd") && table.contains("tcp.port\t65433\tdata"))

    let certs = try Certificates()
    let daemon = try Daemon(certs.serverFlags)
    defer { daemon.stop() }
    let dumpcap = try Capture(filter: "tcp port \(daemon.tlsPort)")
    let r = try searchctl(["search"] + certs.clientFlags(port: daemon.tlsPort) + ["morpheus"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(dumpcap.stop(), "dumpcap stopped at SIGINT")

    // ClientHello (1), ServerHello (2), handshake records (22) and TLS 1.3's encrypted
    // records (opaque type 23): the whole connection is TLS.
    let tls = try runProcess(
      URL(fileURLWithPath: "/usr/bin/tshark"),
      [
        "-r", dumpcap.path, "-X", "lua_script:\(Self.script)", "-d", "tcp.port==\(daemon.tlsPort),tls", "-Y", "tls",
        "-T", "fields", "-e", "tls.handshake.type", "-e", "tls.record.content_type", "-e", "tls.record.opaque_type",
      ], timeout: 120)
    #expect(tls.status == 0, "\(tls.stderr)")
    let seen = Set(tls.stdout.split(whereSeparator: { "\n\t,".contains($0) }).map(String.init))
    #expect(seen.isSuperset(of: ["1", "2", "22", "23"]), "\(tls.stdout)")
    let asSearchd = try runProcess(
      URL(fileURLWithPath: "/usr/bin/tshark"),
      ["-r", dumpcap.path, "-X", "lua_script:\(Self.script)", "-Y", "searchd"], timeout: 120)
    #expect(asSearchd.status == 0 && asSearchd.stdout.isEmpty, "\(asSearchd.stdout)")
  }

  /// A suggest with its options, and its reply's list, field by field.
  @Test func tsharkShowsASuggestAndItsSuggestions() throws {
    let daemon = try Daemon()
    defer { daemon.stop() }
    let dumpcap = try Capture(filter: "tcp port \(daemon.appPort)")
    let client = try TestClient(port: daemon.appPort)
    try client.send(Request.encodeSuggest("morphues", limit: 5, typos: 1))
    #expect(
      try client.readMessage()
        == Reply.suggestions([("morpheus", "Follow the white rabbit. \u{1F430}", 1)], complete: true))
    try client.send(Request.encodeSuggest("zzzz"))
    #expect(try client.readMessage() == Reply.suggestions([], complete: true))
    client.close()
    #expect(dumpcap.stop(), "dumpcap stopped at SIGINT")
    let fields = [
      "searchd.kind", "searchd.action", "searchd.value", "searchd.limit", "searchd.typos", "searchd.suggestion",
      "searchd.complete",
    ].flatMap { ["-e", $0] }
    let r = try runProcess(
      URL(fileURLWithPath: "/usr/bin/tshark"),
      ["-r", dumpcap.path, "-X", "lua_script:\(Self.script)", "-Y", "searchd", "-T", "fields", "-E", "separator=|"]
        + ["-d", "tcp.port==\(daemon.appPort),searchd"] + fields, timeout: 120)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(
      r.stdout.split(separator: "\n").map(String.init) == [
        "request|suggest|morphues|5|1||", "reply|||||morpheus (typos 1)|true", "request|suggest|zzzz||||",
        "reply||||||true",
      ])
  }

  @Test func tsharkShowsEveryMessageAsSent() throws {
    let daemon = try Daemon([], echo: true)
    defer { daemon.stop() }
    let dumpcap = try Capture(filter: "tcp port \(daemon.appPort) or tcp port \(daemon.echoPort)")
    let capture = dumpcap.path

    var expected: [Row] = []
    let client = try TestClient(port: daemon.appPort)
    func exchange(_ requests: [[UInt8]], byteAtATime: Bool = false) throws -> [[UInt8]] {
      if byteAtATime {
        for b in requests.joined() {
          try client.send([b])
          usleep(5_000)
        }
      } else {
        try client.send(Array(requests.joined()))
      }
      return try requests.map { _ in try #require(try client.readMessage()) }
    }
    // A hit, a miss, a UTF-8 hit, a binary request, a burst of three in one segment, a
    // request a byte at a time, an unknown action, content that is not JSON.
    for (query, answer) in [
      ("morpheus", "Follow the white rabbit. \u{1F430}"), ("needle", "No match for \"needle\"."),
      ("\u{1F436}", "\u{1F43E} Playing ball! \u{1F3D0}"),
    ] {
      let request = Request.encodeSearch(query)
      let reply = try exchange([request])[0]
      #expect(reply == Reply.result(answer))
      expected += [row("request", action: "search", value: query, length: contentLength(request))]
      expected += [row("reply", result: answer, length: contentLength(reply))]
    }
    let binary = Request.encodeBinary(Array(repeating: UInt8(ascii: "x"), count: 100))
    let binaryReply = try exchange([binary])[0]
    expected += [row("request", length: 100), row("reply", length: contentLength(binaryReply))]

    let burst = ["a", "ring", "b"].map { Request.encodeSearch($0) }
    let burstReplies = try exchange(burst)
    let burstResults = [
      "No match for \"a\".", "In the caves beneath the Misty Mountains. \u{1F48D}", "No match for \"b\".",
    ]
    // Several messages in one segment: tshark puts each field's values in one row.
    expected += [
      ["request,request,request", "search,search,search", "a,ring,b", "", ""]
        + [burst.map { "\(contentLength($0))" }.joined(separator: ",")],
      ["reply,reply,reply", "", "", burstResults.joined(separator: ","), ""]
        + [burstReplies.map { "\(contentLength($0))" }.joined(separator: ",")],
    ]

    let slow = Request.encodeSearch("one byte at a time")
    let slowReply = try exchange([slow], byteAtATime: true)[0]
    expected += [
      row("request", action: "search", value: "one byte at a time", length: contentLength(slow)),
      row("reply", result: "No match for \"one byte at a time\".", length: contentLength(slowReply)),
    ]

    let find = Request.encodeSearch("x", action: "find")
    let findReply = try exchange([find])[0]
    expected += [
      row("request", action: "find", value: "x", length: contentLength(find)),
      row("reply", result: "Error: invalid action \"find\".", length: contentLength(findReply)),
    ]
    let notJSON = Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array("{nope".utf8))
    let notJSONReply = try exchange([notJSON])[0]
    let notJSONFields = replyFields(notJSONReply)
    expected += [
      row("message", length: 5),
      row(
        "reply", result: try #require(notJSONFields.result), error: try #require(notJSONFields.error),
        length: contentLength(notJSONReply)),
    ]
    client.close()

    // The echo service's bytes are not searchd messages.
    let echo = try TestClient(port: daemon.echoPort)
    try echo.send(Array("hello, echo".utf8))
    #expect(try echo.hasInput(within: 5))
    echo.close()
    #expect(dumpcap.stop(), "dumpcap stopped at SIGINT")

    // Decoded as searchd from the first byte (Decode As, as on port 65432), and by the
    // heuristic (no port given): the same rows.
    let fields = [
      "searchd.kind", "searchd.action", "searchd.value", "searchd.result", "searchd.error",
      "searchd.content_length",
    ].flatMap { ["-e", $0] }
    for decodeAs in [["-d", "tcp.port==\(daemon.appPort),searchd"], []] {
      let r = try runProcess(
        URL(fileURLWithPath: "/usr/bin/tshark"),
        ["-r", capture, "-X", "lua_script:\(Self.script)", "-Y", "searchd", "-T", "fields", "-E", "separator=|"]
          + decodeAs + fields, timeout: 120)
      #expect(r.status == 0, "\(r.stderr)")
      let rows = r.stdout.split(separator: "\n").map {
        $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
      }
      #expect(rows == expected, "tshark \(decodeAs):\n\(r.stdout)")
    }

    // Protocol errors are expert info: the error reply, and the content that is not JSON.
    let experts = try runProcess(
      URL(fileURLWithPath: "/usr/bin/tshark"),
      ["-r", capture, "-X", "lua_script:\(Self.script)", "-Y", "searchd.bad_content || searchd.error_reply"],
      timeout: 120)
    #expect(experts.stdout.split(separator: "\n").count == 2, "\(experts.stdout)")
    // The echo stream shows as data, never as searchd.
    let echoRows = try runProcess(
      URL(fileURLWithPath: "/usr/bin/tshark"),
      [
        "-r", capture, "-X", "lua_script:\(Self.script)", "-Y", "tcp.port==\(daemon.echoPort) && data", "-T",
        "fields", "-e", "data.data",
      ], timeout: 120)
    #expect(echoRows.stdout.contains(Array("hello, echo".utf8).map { String(format: "%02x", $0) }.joined()))
    let echoAsSearchd = try runProcess(
      URL(fileURLWithPath: "/usr/bin/tshark"),
      ["-r", capture, "-X", "lua_script:\(Self.script)", "-Y", "tcp.port==\(daemon.echoPort) && searchd"],
      timeout: 120)
    #expect(echoAsSearchd.stdout.isEmpty)
  }
}
