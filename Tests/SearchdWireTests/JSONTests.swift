import Foundation
import SearchdWire
import Testing

/// The hand-written JSON reader and writer, checked against Foundation and Python's rules.
@Suite(.timeLimit(.minutes(10))) struct JSONTests {
  @Test func writerEscapesAsPythonDoes() {
    var out: [UInt8] = []
    JSONWriter.appendString("a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{1F}\u{7F}é🐰/", to: &out)
    #expect(String(decoding: out, as: UTF8.self) == "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\u{7F}é🐰/\"")
  }

  @Test func errorReplyShape() {
    let r = Reply.error(WireError(.badJSON, "the content is not valid JSON", closesConnection: false))
    let text = String(decoding: r.dropFirst(2), as: UTF8.self)
    #expect(text.hasSuffix(#"{"result": "Error: the content is not valid JSON.", "error": "bad-json"}"#))
  }

  @Test func emptyBinaryRequestIsAnswered() {
    let r = Reply.binary(echoing: [])
    #expect(String(decoding: r, as: UTF8.self).hasSuffix("First 10 bytes of request: "))
  }

  /// The members the walk reports, or nil if it refuses the document: strings as
  /// strings, numbers as their literals and whether they are integers, the rest as nil.
  private func walk(_ text: String) -> [(String, String?)]? {
    var keys: [UInt8] = []
    var values: [UInt8] = []
    var out: [(String, String?)] = []
    let ok = Array(text.utf8).withUnsafeBytes { raw in
      (try? JSONParser.forEachMember(ofObject: raw, maxDepth: 512, keyScratch: &keys, valueScratch: &values) {
        key, value, _ in
        let k = String(decoding: key, as: UTF8.self)
        switch value {
        case .string(let s): out.append((k, String(decoding: s, as: UTF8.self)))
        case .number(let literal, let isInteger):
          out.append((k, "\(String(decoding: literal, as: UTF8.self)) \(isInteger ? "integer" : "number")"))
        case .other: out.append((k, nil))
        }
        return true
      }) != nil
    }
    return ok ? out : nil
  }

  /// Differential: each document as a member's value, where Foundation accepts it the walk
  /// must, with the same string; where it refuses, so must the walk.
  @Test(arguments: [
    #""b""#, #"[1, 2.5, -3e2, true, false, null]"#, #"  "\u00e9\ud83d\udc30"  "#,
    #"{"a": }"#, #"{"a" "b"}"#, "\"\\x\"", "01", "-", "1.", ".5", "[\"\u{01}\"]", #""\ud800""#, "{}", "[]",
    #"{"nested": {"deeper": [[[]]]}}"#, "tru", "nul", "\"abc", #"{"a": 1} x"#, "[1,]", #"{"a": 1,}"#,
  ])
  func agreesWithFoundation(_ text: String) {
    let document = #"{"k": "# + text + "}"
    let foundation = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any]
    let ours = walk(document)
    // Foundation tolerates a trailing comma; Python's json (the reference) and RFC 8259 do not.
    if text.hasSuffix(",]") || text.hasSuffix(",}") {
      #expect(ours == nil)
      return
    }
    #expect((foundation == nil) == (ours == nil), "accept/reject differs for \(text)")
    if let ours, let string = foundation?["k"] as? String {
      #expect(ours.count == 1 && ours[0].1 == string, "values differ for \(text)")
    }
  }

  @Test func topLevelKindsAreTold() {
    #expect(walk("[1]") == nil)
    var keys: [UInt8] = []
    var values: [UInt8] = []
    for (text, failure) in [
      ("[1]", JSONParser.Failure.notAnObject), ("[1", .syntax(offset: 2)), ("", .syntax(offset: 0)),
    ] {
      #expect(throws: failure) {
        try Array(text.utf8).withUnsafeBytes { raw in
          try JSONParser.forEachMember(ofObject: raw, maxDepth: 512, keyScratch: &keys, valueScratch: &values) {
            _, _, _ in true
          }
        }
      }
    }
  }

  @Test func integerLiteralsOnly() throws {
    let members = try #require(walk(#"{"a": 1e3, "b": 1000, "c": -0, "d": 10.0}"#))
    #expect(members.map(\.1) == ["1e3 number", "1000 integer", "-0 integer", "10.0 number"])
    for (literal, value) in [("1000", 1000), ("-0", 0), ("-12", -12), ("9223372036854775807", Int.max)] {
      #expect(Array(literal.utf8).withUnsafeBytes { JSONParser.integer($0) } == value)
    }
    #expect(Array("9223372036854775808".utf8).withUnsafeBytes { JSONParser.integer($0) } == nil)
  }
}
