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

  /// Differential: where Foundation accepts a document we must parse it to the same value;
  /// where it refuses, so must we (NaN and friends aside, which neither accepts).
  @Test(arguments: [
    #"{"a": "b"}"#, #"{"a": [1, 2.5, -3e2, true, false, null]}"#, #"  {"k": "\u00e9\ud83d\udc30"}  "#,
    #"{"a": }"#, #"{"a" "b"}"#, "\"\\x\"", "01", "-", "1.", ".5", "[\"\u{01}\"]", #""\ud800""#, "{}", "[]",
    #"{"nested": {"deeper": [[[]]]}}"#, "tru", "nul", "\"abc", #"{"a": 1} x"#,
  ])
  func agreesWithFoundation(_ text: String) {
    let data = Data(text.utf8)
    let foundation = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    let ours = try? JSONParser.parse(Array(text.utf8))
    #expect((foundation == nil) == (ours == nil), "accept/reject differs for \(text)")
    if let ours, let foundation {
      #expect(same(ours, foundation), "values differ for \(text)")
    }
  }

  private func same(_ a: JSONValue, _ b: Any) -> Bool {
    switch a {
    case .string(let s): return (b as? String) == s
    case .bool(let v): return (b as? NSNumber).map { $0.boolValue == v } ?? false
    case .null: return b is NSNull
    case .number(let n): return (b as? NSNumber).map { $0.doubleValue == n.double } ?? false
    case .array(let items):
      guard let arr = b as? [Any], arr.count == items.count else { return false }
      return zip(items, arr).allSatisfy { same($0, $1) }
    case .object(let members):
      guard let dict = b as? [String: Any], dict.count == members.count else { return false }
      return members.allSatisfy { m in dict[m.key].map { same(m.value, $0) } ?? false }
    }
  }

  /// Foundation tolerates a trailing comma in an array; Python's json (the reference) and RFC 8259 do not.
  @Test func trailingCommaFollowsPythonNotFoundation() {
    #expect((try? JSONSerialization.jsonObject(with: Data("[1,]".utf8))) != nil)
    #expect((try? JSONParser.parse(Array("[1,]".utf8))) == nil)
    #expect((try? JSONParser.parse(Array(#"{"a": 1,}"#.utf8))) == nil)
  }

  @Test func integerLiteralsOnly() throws {
    guard case .number(let n) = try JSONParser.parse(Array("1e3".utf8)) else { return }
    #expect(n.integer == nil)
    guard case .number(let m) = try JSONParser.parse(Array("1000".utf8)) else { return }
    #expect(m.integer == 1000)
  }
}
