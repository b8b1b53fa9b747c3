import Foundation
import SearchdIndex
import SearchdWire
import Testing

@testable import IntegrationSupport

/// The compiled format: what `searchd-index build` writes and searchd maps.
@Suite(.timeLimit(.minutes(10))) struct CompiledIndexTests {
  private let folder = TestFolder("searchd-compiled-tests")

  private func temporary(_ name: String) -> String { folder.path("\(UUID())-\(name)") }

  private let pairs: [(key: String, value: String)] = [
    ("morpheus", "Follow the white rabbit. \u{1F430}"),
    ("quote\"back\\slash", "a \"quoted\" \\ value\nwith\tcontrols\u{1}"),
    ("caf\u{E9}", "nfc"), ("cafe\u{301}", "nfd"), ("", "the empty key"), ("long", String(repeating: "x", count: 300)),
  ]

  /// A compiled image of `pairs` as bytes.
  private func compiled() -> [UInt8] {
    let table = LookupTable(pairs: pairs, source: "test")
    return withExtendedLifetime(table) { Array(table.image.bytes) }
  }

  private func load(_ bytes: [UInt8], verify: Bool = true) throws -> LookupTable {
    let path = temporary("index.sdx")
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try LookupTable.load(path: path, verifyChecksum: verify)
  }

  /// The same checks on bytes in memory, for the tests that try every byte of a file (a
  /// file each made them slow enough under the sanitizers to starve other suites).
  private func image(_ bytes: [UInt8], verify: Bool = true) throws -> LookupTable {
    let copy = bytes.withUnsafeBytes { IndexImage(copying: $0) }
    return try LookupTable(image: copy, source: "test", format: .compiled, verifyChecksum: verify)
  }

  @Test func aWrittenImageMapsBackWithEveryValue() throws {
    let path = temporary("index.sdx")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try LookupTable(pairs: pairs, source: "test").image.write(to: path)
    let table = try LookupTable.load(path: path)
    #expect(table.format == .compiled)
    #expect(table.image.isMapped)
    #expect(table.count == pairs.count)
    for (k, v) in pairs { #expect(table.value(forKey: k) == v) }
    #expect(table.value(forKey: "Morpheus") == nil)
    #expect(table.isIntact)
    var seen = 0
    table.forEachEntry { _, _ in seen += 1 }
    #expect(seen == pairs.count)
  }

  /// The stored text, between what the send path writes around it, is the reference's reply.
  @Test func storedTextIsTheReplysStringByteForByte() throws {
    let table = try load(compiled())
    let (prefix, suffix) = Reply.resultContentAround
    for (k, v) in pairs {
      let text = Array(k.utf8).withUnsafeBytes { table.text(forQuery: $0).map { Array($0) } }
      let reply = Reply.result(v)
      let headerLength = Int(reply[0]) << 8 | Int(reply[1])
      #expect(text.map { prefix + $0 + suffix } == Array(reply[(2 + headerLength)...]))
    }
  }

  @Test func aJSONFileAndItsCompiledFormAnswerAlike() throws {
    let json = temporary("index.json")
    let sdx = temporary("index.sdx")
    defer {
      try? FileManager.default.removeItem(atPath: json)
      try? FileManager.default.removeItem(atPath: sdx)
    }
    try Data(#"{"neo": "The One", "trinity": "\u00e9\ud83d\ude00", "neo": "again", "tab\tkey": "x"}"#.utf8)
      .write(to: URL(fileURLWithPath: json))
    let fromJSON = try LookupTable.load(path: json)
    try fromJSON.image.write(to: sdx)
    let fromFile = try LookupTable.load(path: sdx)
    #expect(fromJSON.count == 3)
    #expect(fromFile.count == 3)
    for key in ["neo", "trinity", "tab\tkey", "nobody"] {
      #expect(fromJSON.value(forKey: key) == fromFile.value(forKey: key))
    }
    #expect(fromFile.value(forKey: "neo") == "again")
    #expect(fromFile.value(forKey: "trinity") == "\u{E9}\u{1F600}")
  }

  /// Every shorter prefix of a file is refused: the header's length gives it away.
  @Test func everyTruncationIsRefused() {
    let bytes = compiled()
    let accepted = (0..<bytes.count).filter { (try? image(Array(bytes[..<$0]))) != nil }
    #expect(accepted.isEmpty, "prefixes taken for an index: \(accepted)")
    #expect(throws: IndexLoadError.self) { try load(Array(bytes.dropLast())) }
  }

  /// A change to any one byte is caught: in the header by its own sum, after it by the body's.
  @Test func everyFlippedByteIsRefused() throws {
    let bytes = compiled()
    let missed = bytes.indices.filter { at in
      var bad = bytes
      bad[at] ^= 0x40
      return (try? image(bad)) != nil
    }
    #expect(missed.isEmpty, "changed bytes not caught: \(missed)")
  }

  /// Unverified (as the fuzz target runs it), a corrupt body still never leads a lookup or
  /// a suggestion outside the file: every bucket and sorted offset is checked before it is
  /// followed. Only the node section is checked whole at load, so only there is a byte
  /// refused.
  @Test func lookupsInACorruptUncheckedBodyStayInside() throws {
    let bytes = compiled()
    let nodesAt = bytes.withUnsafeBytes { b in
      func u64(_ at: Int) -> Int { Int(UInt64(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt64.self))) }
      return u64(24) + u64(32) * 8 + (pairs.count * 9 + 7) & ~7
    }
    var suggester = Suggester(visitLimit: .max)
    var refused: [Int] = []
    for at in IndexFormat.headerSize..<bytes.count {
      var bad = bytes
      bad[at] = 0xFF
      guard let table = try? image(bad, verify: false) else {
        refused.append(at)
        continue
      }
      for (k, _) in pairs { _ = table.value(forKey: k) }
      table.forEachEntry { _, _ in }
      for text in ["", "m", "morphues", "caf"] {
        _ = Array(text.utf8).withUnsafeBytes { suggester.suggest($0, in: table, limit: 10, typos: 2) }
        for s in suggester.suggestions { _ = table.suggestion(at: s.position) }
      }
    }
    #expect(refused.allSatisfy { $0 >= nodesAt }, "refused outside the node section: \(refused)")
  }

  @Test(arguments: [
    ("{\"a\": \"b\"}", "JSON"), ("\u{89}PNG\r\n\u{1A}\n and the rest of a picture", "JSON"),
  ])
  func aForeignFileIsNotTakenForAnIndex(_ text: String, _ kind: String) throws {
    // No magic: read as JSON, and refused as JSON if it is not.
    let path = temporary("foreign")
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    if text.hasPrefix("{") {
      #expect(try LookupTable.load(path: path).format == .json)
    } else {
      #expect(throws: IndexLoadError.self) { try LookupTable.load(path: path) }
    }
  }

  @Test func anotherVersionIsRefusedNamingIt() {
    var bytes = compiled()
    bytes[8] = 9
    #expect {
      try load(bytes)
    } throws: { "\($0)".contains("version 9") && "\($0)".contains("rebuild") }
  }

  /// Writing over a mapped file renames a new inode into place: the mapped table keeps
  /// answering from the old file.
  @Test func replacingTheFileLeavesAMappedTableIntact() throws {
    let path = temporary("index.sdx")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try LookupTable(pairs: [("k", "old")], source: "a").image.write(to: path)
    let old = try LookupTable.load(path: path)
    try LookupTable(pairs: [("k", "new")], source: "b").image.write(to: path)
    #expect(old.value(forKey: "k") == "old")
    #expect(try LookupTable.load(path: path).value(forKey: "k") == "new")
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
      .filter { $0.hasSuffix(".tmp") && $0.contains((path as NSString).lastPathComponent) }
    #expect(leftovers.isEmpty)
  }
}
