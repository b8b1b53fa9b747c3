import Testing

@testable import SearchdWire

/// The replies written straight into the output are `Reply`'s, byte for byte.
@Suite(.timeLimit(.minutes(10))) struct DirectReplyTests {
  private let shapes = ReplyShapes.shared

  private func bytes(_ d: DirectReply) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: d.count(shapes)) { buffer, n in
      d.write(into: UnsafeMutableRawBufferPointer(buffer), shapes)
      n = d.count(shapes)
    }
  }

  /// The shapes cut from `Reply`, pinned to the reference server's bytes (host order little).
  @Test func theShapesAreTheReferencesBytes() {
    func text(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }
    let t = shapes.table.pointee
    let json = #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": "#
    #expect([t.result, t.noMatch, t.invalidAction].allSatisfy { text($0.head) == json })
    #expect(
      text(t.binary.head)
        == #"{"byteorder": "little", "content-type": "binary/custom-server-binary-type", "content-encoding": "binary", "content-length": "#
    )
    #expect(text(t.result.prefix) == #"{"result": ""# && text(t.result.suffix) == #""}"#)
    #expect(text(t.noMatch.prefix) == #"{"result": "No match for \""# && text(t.noMatch.suffix) == #"\"."}"#)
    #expect(text(t.invalidAction.prefix) == #"{"result": "Error: invalid action \""#)
    #expect(text(t.binary.prefix) == "First 10 bytes of request: " && t.binary.suffix.isEmpty)
  }

  /// Queries of every length across the content length's digit boundaries (9 → 10 → 100),
  /// of every byte a query may hold: what JSON escapes (quotes, backslashes, controls) is
  /// escaped as `Reply` escapes it.
  @Test func aMissIsReplysNoMatch() {
    let printable = (0x20..<0x7F).map(UInt8.init)
    let specials: [UInt8] = [0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C, 0x00, 0x01, 0x1F, 0x7F]
    var wrong: [String] = []
    for alphabet in [printable.filter { $0 != 0x22 && $0 != 0x5C }, printable + specials] {
      for length in [0, 1, 5, 6, 60, 67, 68, 69, 200, 1000, 5000] {
        let query = (0..<length).map { alphabet[($0 * 7) % alphabet.count] }
        query.withUnsafeBytes { q in
          if bytes(.miss(query: q)) != Reply.noMatch(query: query) { wrong.append("\(length) of \(alphabet.count)") }
        }
      }
    }
    for q in ["a\"b", "a\\b", "\n", "\u{1}", "caf\u{E9}", "\u{1F436} \"Playing\" ball\t"] {
      let query = Array(q.utf8)
      query.withUnsafeBytes { raw in
        if bytes(.miss(query: raw)) != Reply.noMatch(query: query) { wrong.append(q) }
      }
    }
    #expect(wrong.isEmpty, "\(wrong)")
  }

  /// Action names of every length across the digit boundaries, of printable ASCII, and
  /// with what JSON escapes.
  @Test func anUnknownActionIsReplysInvalidAction() {
    var wrong: [String] = []
    for length in [0, 1, 5, 60, 61, 62, 63, 200, 1000, 5000] {
      let action = String((0..<length).map { Character(Unicode.Scalar(UInt8(0x20 + ($0 * 7) % 0x5F))) })
      for name in [action, action + "\"\\\n\u{1}"] {
        Array(name.utf8).withUnsafeBytes { a in
          if bytes(.invalidAction(a)) != Reply.invalidAction(name) { wrong.append("\(name.utf8.count)") }
        }
      }
    }
    #expect(wrong.isEmpty, "\(wrong)")
  }

  @Test func aBinaryEchoIsReplysBinary() {
    for size in [0, 1, 3, 9, 10, 11, 100, 4096] {
      let content = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7) }
      content.withUnsafeBytes { c in
        #expect(bytes(.binary(content: c)) == Reply.binary(echoing: content), "\(size) bytes")
      }
    }
  }
}
