import Foundation
import SearchdWire
import TestSupport
import Testing

/// The JSON reader (the daemon's walk and the tests' reference) against Foundation's, on the fuzzer's corpus (Fuzz/corpus, plus
/// $FUZZ_CORPUS when a fuzzing run left more): both must accept and refuse the same
/// headers and read the same values, except where Foundation is laxer than Python's
/// json, the reference (trailing commas; UTF-16/32 guessed from NUL bytes or a byte-order
/// mark, where the header is UTF-8), where Foundation is stricter than RFC 8259 and
/// Python (number literals beyond Double's range, which Python reads as inf),
/// and where searchd is stricter on purpose (duplicate keys, non-integer content-length).
@Suite(.timeLimit(.minutes(10))) struct FuzzCorpusDifferentialTests {
  static let corpus: [URL] = {
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    var dirs = [here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")]
    if let extra = ProcessInfo.processInfo.environment["FUZZ_CORPUS"] { dirs.append(URL(fileURLWithPath: extra)) }
    return dirs.flatMap {
      (try? FileManager.default.contentsOfDirectory(at: $0, includingPropertiesForKeys: nil)) ?? []
    }
  }()

  /// The header bytes a fuzz input carries: after the chunk-size byte, the 2-byte length and that many bytes.
  private func header(_ input: [UInt8]) -> [UInt8]? {
    guard input.count >= 3 else { return nil }
    let n = Int(input[1]) << 8 | Int(input[2])
    return Array(input.dropFirst(3).prefix(n))
  }

  @Test func corpusIsThere() { #expect(Self.corpus.count >= 18) }

  @Test func parsersAgreeOnTheCorpus() throws {
    var compared = 0
    for url in Self.corpus {
      guard let h = header(Array(try Data(contentsOf: url))), !h.isEmpty else { continue }
      let foundation = try? JSONSerialization.jsonObject(with: Data(h), options: [.fragmentsAllowed])
      let ours = try? ReferenceJSON.parse(h)
      // The daemon's one JSON walk accepts what the reference parser accepts.
      #expect(walkAccepts(h) == (ours != nil), "the walk and the reference differ on \(url.lastPathComponent)")
      let laxer = (foundation != nil && ours == nil) && (hasTrailingComma(h) || guessesAnotherEncoding(h))
      let stricter = (foundation == nil && ours != nil) && ours.map(hasNumberBeyondDouble) == true
      if !laxer && !stricter {
        #expect((foundation == nil) == (ours == nil), "accept/reject differs on \(url.lastPathComponent)")
      }
      if let dict = foundation as? [String: Any], case .object(let members)? = ours {
        // Foundation keeps one value per key; searchd's header refuses duplicates outright.
        if Set(members.map(\.key)).count == members.count {
          #expect(Set(dict.keys) == Set(members.map(\.key)))
          for m in members {
            if case .string(let s) = m.value { #expect(dict[m.key] as? String == s) }
          }
        } else {
          #expect(headerRefused(h))
        }
      }
      compared += 1
    }
    #expect(compared > 0)
  }

  /// The daemon's JSON walk accepts `bytes` as JSON (an object, or another value it then
  /// calls not an object).
  private func walkAccepts(_ bytes: [UInt8]) -> Bool {
    var keys: [UInt8] = []
    var values: [UInt8] = []
    do {
      try bytes.withUnsafeBytes { raw in
        try JSONParser.forEachMember(ofObject: raw, maxDepth: 512, keyScratch: &keys, valueScratch: &values) {
          _, _, _ in true
        }
      }
      return true
    } catch {
      return (error as? JSONParser.Failure) == .notAnObject
    }
  }

  /// The daemon's reader refuses `header` (a framing error).
  private func headerRefused(_ header: [UInt8]) -> Bool {
    var b = InputBuffer()
    b.append([UInt8(header.count >> 8), UInt8(header.count & 0xFF)] + header)
    var d = FrameDecoder()
    if case .failed = d.decode(&b) { return true }
    return false
  }

  /// A literal too large for a Double, which Foundation refuses.
  private func hasNumberBeyondDouble(_ value: JSONValue) -> Bool {
    switch value {
    case .number(let n): return n.double?.isInfinite ?? true
    case .array(let elements): return elements.contains(where: hasNumberBeyondDouble)
    case .object(let members): return members.contains { hasNumberBeyondDouble($0.value) }
    default: return false
    }
  }

  /// Foundation reads NUL-bearing or BOM-led bytes as UTF-16/32 (or skips the BOM).
  private func guessesAnotherEncoding(_ bytes: [UInt8]) -> Bool {
    bytes.contains(0) || bytes.starts(with: [0xEF, 0xBB, 0xBF]) || bytes.starts(with: [0xFF, 0xFE])
      || bytes.starts(with: [0xFE, 0xFF])
  }

  private func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
    let text = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
    return text.contains(",]") || text.contains(",}")
  }

  /// The two traps RELIABILITY.md names, pinned down.
  @Test func knownTraps() throws {
    let dup = Array(
      #"{"byteorder": "l", "content-type": "t", "content-encoding": "e", "content-length": 1, "content-length": 2}"#
        .utf8)
    #expect((try? JSONSerialization.jsonObject(with: Data(dup))) != nil, "Foundation accepts duplicate keys")
    #expect(headerRefused(dup))
    let exp = Array(#"{"byteorder": "l", "content-type": "t", "content-encoding": "e", "content-length": 1e3}"#.utf8)
    let f = try JSONSerialization.jsonObject(with: Data(exp)) as? [String: Any]
    #expect((f?["content-length"] as? NSNumber)?.intValue == 1000, "Foundation reads 1e3 as 1000")
    #expect(headerRefused(exp))
  }

  /// The divergences the corpus comparison allows, pinned down so they stay the only ones.
  @Test(arguments: [
    ([0x31, 0x00], "UTF-16LE guessed from a NUL byte"),
    ([0xEF, 0xBB, 0xBF, 0x31], "a UTF-8 byte-order mark skipped"),
    (Array("[1,]".utf8), "a trailing comma"),
  ])
  func foundationIsLaxer(bytes: [UInt8], what: String) {
    #expect((try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil, "\(what)")
    #expect((try? ReferenceJSON.parse(bytes)) == nil, "the reference refuses \(what), as Python's json does")
  }

  @Test func foundationIsStricterOnHugeNumbers() {
    let huge = Array("30012919405888888888888888888888888888881E012919405".utf8)
    #expect((try? JSONSerialization.jsonObject(with: Data(huge), options: [.fragmentsAllowed])) == nil)
    #expect((try? ReferenceJSON.parse(huge)) != nil, "RFC 8259 and Python accept it (Python reads inf)")
  }
}
