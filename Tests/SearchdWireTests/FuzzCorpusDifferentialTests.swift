import Foundation
import SearchdWire
import Testing

/// The header parser against Foundation's, on the fuzzer's corpus (Fuzz/corpus, plus
/// $FUZZ_CORPUS when a fuzzing run left more): both must accept and refuse the same
/// headers and read the same values, except where Foundation is laxer than Python's
/// json, the reference (trailing commas), and where searchd is stricter on purpose
/// (duplicate keys, non-integer content-length).
@Suite struct FuzzCorpusDifferentialTests {
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
      let ours = try? JSONParser.parse(h)
      let laxer = (foundation != nil && ours == nil) && hasTrailingComma(h)
      if !laxer {
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
          #expect(throws: WireError.self) { try Header.parse(h, limits: .default) }
        }
      }
      compared += 1
    }
    #expect(compared > 0)
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
    #expect(throws: WireError.self) { try Header.parse(dup, limits: .default) }
    let exp = Array(#"{"byteorder": "l", "content-type": "t", "content-encoding": "e", "content-length": 1e3}"#.utf8)
    let f = try JSONSerialization.jsonObject(with: Data(exp)) as? [String: Any]
    #expect((f?["content-length"] as? NSNumber)?.intValue == 1000, "Foundation reads 1e3 as 1000")
    #expect(throws: WireError.self) { try Header.parse(exp, limits: .default) }
  }
}
