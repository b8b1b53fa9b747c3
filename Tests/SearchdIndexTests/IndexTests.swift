import Foundation
import SearchdIndex
import Testing

@Suite struct IndexTests {
  private func write(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("searchd-index-\(UUID()).json").path
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test func builtInIsTheTutorials() {
    #expect(SearchIndex.builtIn.count == 3)
    #expect(SearchIndex.builtIn.lookup("morpheus") == "Follow the white rabbit. \u{1F430}")
    #expect(SearchIndex.builtIn.lookup("\u{1F436}") == "\u{1F43E} Playing ball! \u{1F3D0}")
    #expect(SearchIndex.builtIn.lookup("Morpheus") == nil)
  }

  @Test func keysCompareAsBytesNotCanonicalStrings() {
    let index = SearchIndex(entries: ["caf\u{E9}": "precomposed"], source: "test")
    #expect(index.lookup("caf\u{E9}") == "precomposed")
    #expect(index.lookup("cafe\u{301}") == nil)
  }

  @Test func loadsAFile() throws {
    let path = try write(#"{"neo": "The One", "trinity": "\u00e9"}"#)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let index = try SearchIndex.load(path: path)
    #expect(index.count == 2)
    #expect(index.lookup("trinity") == "é")
    #expect(index.source == path)
  }

  @Test(arguments: [
    ("[1, 2]", "JSON object"), (#"{"a": 1}"#, "\"a\" is not a string"), ("{", "not valid JSON"), ("", "not valid JSON"),
  ])
  func refusesABadFileNamingFileAndProblem(_ text: String, _ problem: String) throws {
    let path = try write(text)
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect {
      try SearchIndex.load(path: path)
    } throws: { error in
      let d = "\(error)"
      return d.contains(path) && d.contains(problem)
    }
  }

  @Test func missingFile() {
    #expect {
      try SearchIndex.load(path: "/nonexistent/searchd.json")
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
    let index = try SearchIndex.load(path: path)
    #expect(index.count == 1_000_000)
    #expect(index.lookup("key999999") == "value 999999")
  }
}
