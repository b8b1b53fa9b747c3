import Testing

@testable import SearchdWire

/// The replies written straight into the output are `Reply`'s, byte for byte.
@Suite(.timeLimit(.minutes(10))) struct DirectReplyTests {
  private func bytes(_ d: DirectReply) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: d.count) { buffer, n in
      d.write(into: UnsafeMutableRawBufferPointer(buffer))
      n = d.count
    }
  }

  /// The fixed parts are literals, and each is what `Reply` makes.
  @Test func theFixedPartsAreReplysBytes() {
    #expect(Self.fixedParts.count == 9)
    for part in Self.fixedParts {
      #expect(part.literal == part.fromReply, "\(part.name)")
    }
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

  /// Each of `DirectReply`'s literals beside the bytes `Reply` makes for it.
  private static var fixedParts: [(name: String, literal: [UInt8], fromReply: [UInt8])] {
    func bytes(_ s: StaticString) -> [UInt8] { Array(s.bytes) }
    func content(_ reply: [UInt8]) -> [UInt8] { Array(reply.dropFirst(2 + (Int(reply[0]) << 8 | Int(reply[1])))) }
    func header(_ reply: [UInt8]) -> [UInt8] { Array(reply[2..<(2 + (Int(reply[0]) << 8 | Int(reply[1])))]) }
    let miss = content(Reply.noMatch(query: [UInt8(ascii: "Q")]))
    let invalid = content(Reply.invalidAction("Q"))
    let q = miss.firstIndex(of: UInt8(ascii: "Q"))!
    let a = invalid.firstIndex(of: UInt8(ascii: "Q"))!
    // The headers without their content length's digits and `}`: "14}", "27}".
    return [
      ("jsonHeaderHead", bytes(DirectReply.jsonHeaderHead), Array(header(Reply.result("")).dropLast(3))),
      ("binaryHeaderHead", bytes(DirectReply.binaryHeaderHead), Array(header(Reply.binary(echoing: [])).dropLast(3))),
      ("hitPrefix", bytes(DirectReply.hitPrefix), Reply.resultContentAround.prefix),
      ("hitTail", bytes(DirectReply.hitTailLiteral), Reply.resultContentAround.suffix),
      ("noMatchPrefix", bytes(DirectReply.noMatchPrefix), Array(miss[..<q])),
      ("invalidActionPrefix", bytes(DirectReply.invalidActionPrefix), Array(invalid[..<a])),
      ("quoteEnd", bytes(DirectReply.quoteEnd), Array(miss[(q + 1)...])),
      ("quoteEnd after an action", bytes(DirectReply.quoteEnd), Array(invalid[(a + 1)...])),
      ("binaryContentHead", bytes(DirectReply.binaryContentHead), content(Reply.binary(echoing: []))),
    ]
  }

}
