import Foundation
import SearchdIndex
import Testing

@testable import IntegrationSupport

@Suite(.timeLimit(.minutes(10))) struct IndexTests {
  private let folder = TestFolder("searchd-index-tests")

  private func write(_ text: String) throws -> String { try folder.write(text, to: "\(UUID()).json") }

  @Test func builtInIsTheTutorials() {
    #expect(LookupTable.builtIn.count == 3)
    #expect(LookupTable.builtIn.value(forKey: "morpheus") == "Follow the white rabbit. \u{1F430}")
    #expect(LookupTable.builtIn.value(forKey: "\u{1F436}") == "\u{1F43E} Playing ball! \u{1F3D0}")
    #expect(LookupTable.builtIn.value(forKey: "Morpheus") == nil)
  }

  @Test func keysCompareAsBytesNotCanonicalStrings() {
    let table = LookupTable(pairs: [("caf\u{E9}", "precomposed")], source: "test")
    #expect(table.value(forKey: "caf\u{E9}") == "precomposed")
    #expect(table.value(forKey: "cafe\u{301}") == nil)
  }

  /// A file holding both spellings of "café" (NFC and NFD) keeps both, each with its value.
  @Test func aFileWithBothSpellingsOfAKeyKeepsBoth() throws {
    let path = try write("{\"caf\u{E9}\": \"nfc\", \"cafe\u{301}\": \"nfd\"}")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let table = try LookupTable.load(path: path)
    #expect(table.count == 2)
    #expect(table.value(forKey: "caf\u{E9}") == "nfc")
    #expect(table.value(forKey: "cafe\u{301}") == "nfd")
  }

  /// A key repeated byte for byte keeps its last value, as Python's json.loads does.
  @Test func aRepeatedKeyKeepsItsLastValue() throws {
    let path = try write(#"{"neo": "first", "neo": "last"}"#)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let table = try LookupTable.load(path: path)
    #expect(table.count == 1)
    #expect(table.value(forKey: "neo") == "last")
  }

  @Test func loadsAFile() throws {
    let path = try write(#"{"neo": "The One", "trinity": "\u00e9"}"#)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let table = try LookupTable.load(path: path)
    #expect(table.count == 2)
    #expect(table.value(forKey: "trinity") == "é")
    #expect(table.source == path)
    #expect(table.format == .json)
  }

  @Test(arguments: [
    ("[1, 2]", "JSON object"), (#"{"a": 1}"#, "\"a\" is not a string"), ("{", "not valid JSON"), ("", "not valid JSON"),
  ])
  func refusesABadFileNamingFileAndProblem(_ text: String, _ problem: String) throws {
    let path = try write(text)
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect {
      try LookupTable.load(path: path)
    } throws: { error in
      let d = "\(error)"
      return d.contains(path) && d.contains(problem)
    }
  }

  @Test func missingFile() {
    #expect {
      try LookupTable.load(path: "/nonexistent/searchd.json")
    } throws: { "\($0)".contains("/nonexistent/searchd.json") && "\($0)".contains("no such file") }
  }

  @Test func loadsAMillionEntries() throws {
    var text = "{"
    text.reserveCapacity(40_000_000)
    for i in 0..<1_000_000 {
      if i > 0 { text += ", " }
      text += "\"key\(i)\": \"value \(i)\""
    }
    text += "}"
    let path = try write(text)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let table = try LookupTable.load(path: path)
    #expect(table.count == 1_000_000)
    #expect(table.value(forKey: "key999999") == "value 999999")
    #expect(table.value(forKey: "key1000000") == nil)
  }
}
