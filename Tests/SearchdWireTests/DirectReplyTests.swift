import SearchdWire
import Testing

/// The replies written straight into the output are `Reply`'s, byte for byte.
@Suite(.timeLimit(.minutes(10))) struct DirectReplyTests {
  private func bytes(_ d: DirectReply) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: d.count) { buffer, n in
      d.write(into: UnsafeMutableRawBufferPointer(buffer))
      n = d.count
    }
  }

  /// Queries of every length across the content length's digit boundaries (9 → 10 → 100).
  @Test func aMissIsReplysNoMatch() {
    let printable = (0x20..<0x7F).map(UInt8.init).filter { $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    for length in [0, 1, 5, 6, 60, 67, 68, 69, 200, 1000, 5000] {
      let query = (0..<length).map { printable[$0 % printable.count] }
      query.withUnsafeBytes { q in
        #expect(DirectReply.isPlain(q))
        #expect(bytes(.noMatch(query: q)) == Reply.noMatch(query: query), "a query of \(length) bytes")
      }
    }
  }

  @Test func onlyPlainQueriesAreWrittenDirectly() {
    for q in ["a\"b", "a\\b", "\n", "\u{1}"] {
      Array(q.utf8).withUnsafeBytes { #expect(!DirectReply.isPlain($0), "\(q)") }
    }
    // What JSON writes as it is, UTF-8 included: the miss reply is written directly.
    for q in ["caf\u{E9}", "\u{7F}", "\u{1F436} Playing ball"] {
      let query = Array(q.utf8)
      query.withUnsafeBytes { raw in
        #expect(DirectReply.isPlain(raw), "\(q)")
        #expect(bytes(.noMatch(query: raw)) == Reply.noMatch(query: query), "\(q)")
      }
    }
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
