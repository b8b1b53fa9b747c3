import SearchdWire
import TestSupport
import Testing

/// Content-level rules: these errors keep the connection open.
@Suite(.timeLimit(.minutes(10))) struct RequestTests {
  private func frame(_ content: [UInt8], type: String = "text/json", encoding: String = "utf-8") -> [UInt8] {
    Message.encode(contentType: type, contentEncoding: encoding, content: content)
  }

  /// What the daemon's reader makes of one whole message.
  private func asked(_ message: [UInt8]) -> Reference.Asked? {
    var reader = RequestReader()
    guard case .request(let length, let asked) = Reference.daemonRead(message, reader: &reader) else { return nil }
    #expect(length == message.count)
    return asked
  }

  private func error(_ message: [UInt8]) -> WireError? {
    guard case .refused(let error)? = asked(message) else { return nil }
    #expect(!error.closesConnection)
    return error
  }

  @Test func search() throws {
    #expect(asked(frame(Array(#"{"action": "search", "value": "x"}"#.utf8))) == .search([0x78]))
  }

  @Test func unknownActionIsNotAnError() throws {
    #expect(asked(frame(Array(#"{"action": "find", "value": 1}"#.utf8))) == .unknownAction(Array("find".utf8)))
  }

  @Test func anyOtherContentTypeIsBinary() throws {
    #expect(
      asked(frame([1, 2], type: "application/x-anything", encoding: "binary")) == .binary([1, 2]))
  }

  @Test(arguments: ["not json", "", "{\"action\": \"search\", \"value\": \"\\ud800\"}"])
  func badJSON(_ text: String) { #expect(error(frame(Array(text.utf8)))?.code == .badJSON) }

  @Test func invalidUTF8Content() { #expect(error(frame([0x7B, 0xFF, 0x7D]))?.code == .badJSON) }

  @Test(arguments: [
    "[]", "{}", "{\"value\": \"x\"}", "{\"action\": 3}", "{\"action\": \"search\"}",
    "{\"action\": \"search\", \"value\": 5}",
  ])
  func badRequest(_ text: String) { #expect(error(frame(Array(text.utf8)))?.code == .badRequest) }

  @Test func unsupportedEncoding() {
    #expect(error(frame(Array("{}".utf8), encoding: "klingon"))?.code == .unsupportedEncoding)
  }

  @Test(arguments: [
    "utf-16", "utf-16-le", "UTF16", "utf-16-be", "utf-32", "utf_32_be", "latin-1", "ascii", "utf-8-sig",
  ])
  func encodings(_ name: String) throws {
    let text = #"{"action": "search", "value": "morpheus"}"#
    let bytes: [UInt8]
    switch name.lowercased() {
    case "utf-16": bytes = [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    case "utf-16-le", "utf16": bytes = text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    case "utf-16-be": bytes = text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    case "utf-32":
      bytes =
        [0xFF, 0xFE, 0, 0] + text.unicodeScalars.flatMap { s in (0..<4).map { UInt8((s.value >> (8 * $0)) & 0xFF) } }
    case "utf_32_be":
      bytes = text.unicodeScalars.flatMap { s in (0..<4).reversed().map { UInt8((s.value >> (8 * $0)) & 0xFF) } }
    case "utf-8-sig": bytes = [0xEF, 0xBB, 0xBF] + Array(text.utf8)
    default: bytes = Array(text.utf8)
    }
    #expect(asked(frame(bytes, encoding: name)) == .search(Array("morpheus".utf8)))
  }

  @Test func oddLengthUTF16IsBadJSON() { #expect(error(frame([0x7B], encoding: "utf-16"))?.code == .badJSON) }

  @Test func duplicateContentKeysKeepTheLastAsPythonDoes() throws {
    #expect(
      asked(frame(Array(#"{"action": "find", "action": "search", "value": "a", "value": "b"}"#.utf8)))
        == .search([0x62]))
  }
}
