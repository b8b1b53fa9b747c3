import Foundation
import Glibc
import SearchdWire
import Testing

@testable import IntegrationSupport

/// Compiled index files end to end: `searchd-index` builds and inspects them, searchd maps
/// them, refuses bad ones, and swaps them on SIGHUP under load.
@Suite(.daemonSuite) struct IndexFileTests {
  private let folder = TestFolder("searchd-index")

  private func path(_ name: String) -> String { folder.path(name) }

  /// A JSON index holding `entries`, compiled to `name`.sdx; the compiled file's path.
  private func compiled(_ name: String, _ entries: [String: String]) throws -> String {
    try folder.compiled("\(name).sdx", entries)
  }

  private func flipping(_ file: String, at offset: Int) throws -> String {
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
    bytes[offset] ^= 0x01
    let bad = file + ".bad\(offset)"
    try Data(bytes).write(to: URL(fileURLWithPath: bad))
    return bad
  }

  private let big = String(repeating: "0123456789", count: 600)

  @Test func buildGetAndInfo() throws {
    defer { folder.remove() }
    let sdx = try compiled("a", ["neo": "The One", "caf\u{E9}": "nfc \u{1F430}", "big": big])
    let get = try runProcess(Binaries.searchdIndex, ["get", sdx, "caf\u{E9}"])
    #expect(get.status == 0)
    #expect(get.stdout == "nfc \u{1F430}\n")
    let missing = try runProcess(Binaries.searchdIndex, ["get", sdx, "cafe\u{301}"])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("no entry for"))
    let info = try runProcess(Binaries.searchdIndex, ["info", sdx])
    #expect(info.status == 0)
    #expect(info.stdout.contains("entries:  3\n"))
    #expect(info.stdout.contains("format:   compiled, version 3\n"))
    #expect(info.stdout.contains("suggest:  yes (the keys in order, 0 nodes listed)\n"))
    #expect(info.stdout.contains("checksum: ok\n"))
    let size = try FileManager.default.attributesOfItem(atPath: sdx)[.size] as! Int
    #expect(info.stdout.contains("bytes:    \(size)\n"))

    // A changed byte in a record: info says so and fails; a changed header byte is refused.
    let body = try runProcess(Binaries.searchdIndex, ["info", try flipping(sdx, at: 1_000)])
    #expect(body.status == 1)
    #expect(body.stdout.contains("checksum: MISMATCH"))
    let head = try runProcess(Binaries.searchdIndex, ["info", try flipping(sdx, at: 20)])
    #expect(head.status == 1)
    #expect(head.stderr.contains("corrupt header"))
    let gone = try runProcess(Binaries.searchdIndex, ["info", path("nothing.sdx")])
    #expect(gone.status == 2)
    #expect(gone.stderr.contains("no such file"))
  }

  @Test func buildRefusesABadJSONFileAndLeavesTheOldIndex() throws {
    defer { folder.remove() }
    let sdx = try compiled("a", ["neo": "The One"])
    let bad = path("bad.json")
    try Data(#"{"neo": 1}"#.utf8).write(to: URL(fileURLWithPath: bad))
    let r = try runProcess(Binaries.searchdIndex, ["build", bad, sdx])
    #expect(r.status == 1)
    #expect(r.stderr.contains("the value of \"neo\" is not a string"))
    #expect(try runProcess(Binaries.searchdIndex, ["get", sdx, "neo"]).stdout == "The One\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).allSatisfy { !$0.hasSuffix(".tmp") })
  }

  /// Hits come from the mapping byte for byte, a large one too (queued by reference).
  @Test func searchdServesACompiledIndex() throws {
    defer { folder.remove() }
    let sdx = try compiled("a", ["neo": "The One", "big": big, "quote": "say \"hi\"\n"])
    let daemon = try Daemon(["--index", sdx])
    defer { daemon.stop() }
    let client = try TestClient(port: daemon.appPort)
    for (key, value) in [("neo", "The One"), ("big", big), ("quote", "say \"hi\"\n")] {
      try client.send(Request.encodeSearch(key))
      #expect(try client.readMessage() == Reply.result(value))
    }
    try client.send(Request.encodeSearch("morpheus"))
    #expect(try client.readMessage() == Reply.noMatch(query: Array("morpheus".utf8)))
    #expect(daemon.mappings(of: sdx).count == 1, "the index is mapped, not read")
  }

  @Test(arguments: ["truncated", "body", "header", "foreign"])
  func searchdRefusesABadIndexFileAtStart(_ damage: String) throws {
    defer { folder.remove() }
    let sdx = try compiled("a", ["neo": "The One", "big": big])
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: sdx)))
    let bad: String
    let expected: String
    switch damage {
    case "truncated":
      bad = path("short.sdx")
      try Data(bytes.prefix(bytes.count - 100)).write(to: URL(fileURLWithPath: bad))
      expected = "truncated: \(bytes.count - 100) bytes of \(bytes.count)"
    case "body":
      bad = try flipping(sdx, at: bytes.count / 2)
      expected = "checksum mismatch"
    case "header":
      bad = try flipping(sdx, at: 17)
      expected = "corrupt header"
    default:
      bad = path("foreign.sdx")
      try Data([0x7F] + Array("ELF".utf8) + [UInt8](repeating: 0, count: 60)).write(to: URL(fileURLWithPath: bad))
      expected = "neither a compiled index (no magic number) nor JSON"
    }
    let r = try runProcess(Binaries.searchd, ["--listen", "127.0.0.1:0", "--index", bad], timeout: 20)
    #expect(r.status == 1)
    #expect(r.stderr.contains("cannot load index \(bad): \(expected)"), "\(r.stderr)")
    #expect(!r.stderr.contains("ready"))
  }

  /// SIGHUP under load maps the new file and lets go of the old: no request fails, and the
  /// old file (replaced by build's rename) is unmapped once no loop holds it. A corrupt
  /// file is refused and the index serving goes on.
  @Test func reloadSwapsCompiledIndexesUnderLoadAndUnmapsTheOld() throws {
    defer { folder.remove() }
    let sdx = try compiled("a", ["neo": "first"])
    let daemon = try Daemon(["--index", sdx])
    defer { daemon.stop() }
    let load = LoadClient(query: "neo", accepted: ["first", "second"], port: daemon.appPort)
    usleep(300_000)
    let json = path("b.json")
    try Data(#"{"neo": "second"}"#.utf8).write(to: URL(fileURLWithPath: json))
    #expect(try runProcess(Binaries.searchdIndex, ["build", json, sdx]).status == 0)
    daemon.signal(SIGHUP)
    #expect(daemon.waitForLog("reloaded the index") != nil)
    let client = try TestClient(port: daemon.appPort)
    try client.send(Request.encodeSearch("neo"))
    #expect(try client.readMessage() == Reply.result("second"))
    // Suggestions come from the new file too: they are part of it.
    try client.send(Request.encodeSuggest("nep", typos: 1))
    #expect(try client.readMessage() == Reply.suggestions([("neo", "second", 1)], complete: true))
    usleep(300_000)
    let failures = load.stop()
    #expect(failures.isEmpty, "\(failures.prefix(5))")
    #expect(load.ok > 100)

    var maps = daemon.mappings(of: sdx)
    for _ in 0..<100 where maps.count != 1 {
      usleep(50_000)
      maps = daemon.mappings(of: sdx)
    }
    #expect(maps.count == 1, "the new file mapped once, the old one gone:\n\(maps)")
    #expect(maps.allSatisfy { !$0.contains("(deleted)") })

    // Replaced by a rename, as build does: a file written into in place would change
    // (or shrink) under the mapping.
    try Data(try [UInt8](Data(contentsOf: URL(fileURLWithPath: sdx))).prefix(80)).write(
      to: URL(fileURLWithPath: sdx), options: .atomic)
    daemon.signal(SIGHUP)
    let failed = daemon.waitForLog("reload failed")
    #expect(failed?.contains("truncated") == true, "\(daemon.logText.suffix(500))")
    try client.send(Request.encodeSearch("neo"))
    #expect(try client.readMessage() == Reply.result("second"))
  }
}
