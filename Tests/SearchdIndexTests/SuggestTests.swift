import Foundation
import IntegrationSupport
import SearchdWire
import Testing

@testable import SearchdIndex

/// Suggestions against a brute-force reference: every key of the index measured against the
/// text one by one, by the rule as `docs/PROTOCOL.md` states it.
@Suite(.timeLimit(.minutes(10))) struct SuggestTests {
  /// The reference's rule: the least optimal-string-alignment distance from `text` to any
  /// prefix of `key`, in Unicode scalars; nil when above `typos`. Three rows of the table,
  /// reused (`rows` holds 3 × (text.count + 1)): it runs once per key of the index.
  static func distance(
    _ text: UnsafeBufferPointer<UInt32>, toSomePrefixOf key: UnsafeBufferPointer<UInt32>, typos: Int,
    rows: UnsafeMutableBufferPointer<Int>
  ) -> Int? {
    let m = text.count
    let width = m + 1
    // Rows t-2, t-1 and t, turning round.
    func cell(_ t: Int, _ j: Int) -> Int { rows[(t % 3) * width + j] }
    for j in 0...m { rows[j] = j }
    var best = m
    var t = 1
    while t <= key.count {
      let at = (t % 3) * width
      rows[at] = t
      var least = t
      for j in stride(from: 1, through: m, by: 1) {
        var d = min(cell(t - 1, j) + 1, rows[at + j - 1] + 1, cell(t - 1, j - 1) + (text[j - 1] == key[t - 1] ? 0 : 1))
        if t >= 2, j >= 2, text[j - 1] == key[t - 2], text[j - 2] == key[t - 1] { d = min(d, cell(t - 2, j - 2) + 1) }
        rows[at + j] = d
        least = min(least, d)
      }
      best = min(best, rows[at + m])
      // No longer prefix is nearer than the row's least entry.
      if least >= best || least > typos { break }
      t += 1
    }
    return best <= typos ? best : nil
  }

  /// The reference's answer over `index`: every key within `typos`, by typos, then length in scalars,
  /// then bytes; the first `limit`.
  static func reference(_ text: String, typos: Int, limit: Int) -> [Expected] {
    let keys = index.keys
    let scalars = text.unicodeScalars.map(\.value)
    var found: [(Key, Int)] = []
    let rows = UnsafeMutableBufferPointer<Int>.allocate(capacity: 3 * (scalars.count + 1))
    defer { rows.deallocate() }
    // Every key's scalars in one buffer: the loop runs 100,000 times a query, so it must
    // not touch a reference count.
    let (flat, starts) = Self.flat
    flat.withUnsafeBufferPointer { all in
      scalars.withUnsafeBufferPointer { typed in
        for i in keys.indices {
          let key = UnsafeBufferPointer(rebasing: all[starts[i]..<starts[i + 1]])
          if let d = distance(typed, toSomePrefixOf: key, typos: typos, rows: rows) { found.append((keys[i], d)) }
        }
      }
    }
    found.sort { a, b in
      if a.1 != b.1 { return a.1 < b.1 }
      if a.0.scalars.count != b.0.scalars.count { return a.0.scalars.count < b.0.scalars.count }
      return a.0.bytes.lexicographicallyPrecedes(b.0.bytes)
    }
    return found.prefix(limit).map { Expected(key: $0.0.text, typos: $0.1) }
  }

  struct Key {
    var text: String
    var bytes: [UInt8]
    var scalars: [UInt32]

    init(_ text: String) {
      self.text = text
      bytes = Array(text.utf8)
      scalars = text.unicodeScalars.map(\.value)
    }
  }

  struct Expected: Equatable, CustomStringConvertible {
    var key: String
    var typos: Int
    var description: String { "\(key)(\(typos))" }
  }

  static func answer(_ table: LookupTable, _ suggester: inout Suggester, _ text: String, typos: Int, limit: Int)
    -> (Suggester.Outcome, [Expected])
  {
    let outcome = Array(text.utf8).withUnsafeBytes { suggester.suggest($0, in: table, limit: limit, typos: typos) }
    let got = suggester.suggestions.map {
      Expected(key: String(decoding: table.suggestion(at: $0.position).key, as: UTF8.self), typos: $0.typos)
    }
    return (outcome, got)
  }

  /// Letters weighted toward a few, so typed keys have near neighbours; some accented
  /// letters, CJK and emoji, so scalars of two to four bytes meet the rule too.
  static let alphabet: [Unicode.Scalar] =
    Array("aaeeiioouurrssttnnlmcdpbgkhfwyvzjqx".unicodeScalars) + ["é", "ü", "ß", "中", "文", "🐶", "🐰", "💍"]

  static func randomKey(_ rng: inout SplitMix64) -> String {
    var s = String.UnicodeScalarView()
    for _ in 0..<Int.random(in: 2...12, using: &rng) { s.append(alphabet.randomElement(using: &rng)!) }
    return String(s)
  }

  /// `key` with `edits` random typos: a scalar inserted, deleted, changed or swapped.
  static func typed(_ key: String, edits: Int, _ rng: inout SplitMix64) -> String {
    var s = Array(key.unicodeScalars)
    for _ in 0..<edits {
      switch Int.random(in: 0..<4, using: &rng) {
      case 0: s.insert(alphabet.randomElement(using: &rng)!, at: Int.random(in: 0...s.count, using: &rng))
      case 1 where !s.isEmpty: s.remove(at: Int.random(in: 0..<s.count, using: &rng))
      case 2 where !s.isEmpty: s[Int.random(in: 0..<s.count, using: &rng)] = alphabet.randomElement(using: &rng)!
      case 3 where s.count >= 2:
        let i = Int.random(in: 0..<(s.count - 1), using: &rng)
        s.swapAt(i, i + 1)
      default: break
      }
    }
    var view = String.UnicodeScalarView()
    view.append(contentsOf: s)
    return String(view)
  }

  static func flatten(_ keys: [Key]) -> ([UInt32], [Int]) {
    var flat: [UInt32] = []
    var starts = [0]
    for key in keys {
      flat += key.scalars
      starts.append(flat.count)
    }
    return (flat, starts)
  }

  static let flat = flatten(index.keys)

  /// Random queries a comparison makes: fewer under a sanitizer, where the reference runs
  /// ten times slower and checks no more of the walk than a sample does.
  static let queries = ProcessInfo.processInfo.environment["SEARCHD_SANITIZER"] == nil ? 1_000 : 100

  /// 100,000 random keys, the tutorial's three among them.
  static let index: (table: LookupTable, keys: [Key]) = {
    var rng = SplitMix64(state: 25)
    var unique = Set<String>(["morpheus", "ring", "\u{1F436}"])
    while unique.count < 100_000 { unique.insert(randomKey(&rng)) }
    let keys = unique.sorted().map(Key.init)
    let table = LookupTable(pairs: keys.map { ($0.text, "value of \($0.text)") }, source: "test")
    return (table, keys)
  }()

  @Test func theTutorialsKeysAreSuggestedForTheirTypos() {
    let table = LookupTable.builtIn
    var suggester = Suggester(visitLimit: .max)
    #expect(Self.answer(table, &suggester, "morphues", typos: 1, limit: 10).1 == [Expected(key: "morpheus", typos: 1)])
    #expect(Self.answer(table, &suggester, "Morph", typos: 1, limit: 10).1 == [Expected(key: "morpheus", typos: 1)])
    #expect(Self.answer(table, &suggester, "morph", typos: 0, limit: 10).1 == [Expected(key: "morpheus", typos: 0)])
    #expect(Self.answer(table, &suggester, "rign", typos: 1, limit: 10).1 == [Expected(key: "ring", typos: 1)])
    #expect(
      Self.answer(table, &suggester, "\u{1F431}", typos: 1, limit: 10).1.contains(Expected(key: "\u{1F436}", typos: 1)))
    #expect(Self.answer(table, &suggester, "zzzz", typos: 1, limit: 10).1 == [])
    // Everything starts with the empty text: the shortest keys first.
    #expect(Self.answer(table, &suggester, "", typos: 0, limit: 2).1.map(\.key) == ["\u{1F436}", "ring"])
  }

  @Test func typedKeysAgreeWithTheReference() {
    let (table, keys) = Self.index
    var rng = SplitMix64(state: 7)
    var suggester = Suggester(visitLimit: .max)
    var compared = 0
    for _ in 0..<Self.queries {
      let key = keys.randomElement(using: &rng)!.text
      let text = Self.typed(key, edits: Int.random(in: 0...2, using: &rng), &rng)
      let typos = Int.random(in: 0...2, using: &rng)
      let limit = [1, 10, 100].randomElement(using: &rng)!
      let (outcome, got) = Self.answer(table, &suggester, text, typos: typos, limit: limit)
      #expect(outcome == .complete)
      let expected = Self.reference(text, typos: typos, limit: limit)
      #expect(got == expected, "\(text) typos \(typos) limit \(limit)")
      compared += 1
      if got != expected { break }
    }
    #expect(compared == Self.queries)
  }

  @Test func prefixesAgreeWithTheReference() {
    let (table, keys) = Self.index
    var rng = SplitMix64(state: 11)
    var suggester = Suggester(visitLimit: .max)
    for length in 1...10 {
      for _ in 0..<(Self.queries / 10) {
        let key = keys.randomElement(using: &rng)!
        let text = Self.typed(
          String(String.UnicodeScalarView(key.text.unicodeScalars.prefix(length))),
          edits: Int.random(in: 0...1, using: &rng), &rng)
        let typos = SuggestRequest.defaultTypos(scalars: text.unicodeScalars.count)
        let (_, got) = Self.answer(table, &suggester, text, typos: typos, limit: 10)
        let expected = Self.reference(text, typos: typos, limit: 10)
        #expect(got == expected, "\(text) typos \(typos)")
        if got != expected { return }
      }
    }
  }

  /// A walk past the visit limit stops there: its answer says it was cut, and holds the
  /// best found before it, fewer than the uncut walk finds.
  @Test func theVisitLimitCutsAWalk() {
    let (table, _) = Self.index
    var suggester = Suggester(visitLimit: 20)
    let (outcome, got) = Self.answer(table, &suggester, "qxzv", typos: 2, limit: 100)
    #expect(outcome == .cut)
    #expect(got.count <= 100)
    var unbounded = Suggester(visitLimit: .max)
    let (whole, all) = Self.answer(table, &unbounded, "qxzv", typos: 2, limit: 100)
    #expect(whole == .complete)
    #expect(all.count > got.count)
  }

  /// A key added twice is suggested once, with its last value; keys added out of order
  /// come out in order.
  @Test func aKeyAddedTwiceIsSuggestedOnceWithItsLastValue() {
    let table = LookupTable(pairs: [("bb", "1"), ("a", "2"), ("bb", "3"), ("ab", "4")], source: "test")
    var suggester = Suggester()
    let outcome = Array("".utf8).withUnsafeBytes { suggester.suggest($0, in: table, limit: 10, typos: 0) }
    #expect(outcome == .complete)
    let found = suggester.suggestions.map { s -> String in
      let entry = table.suggestion(at: s.position)
      return String(decoding: entry.key, as: UTF8.self) + "=" + (LookupTable.value(ofText: entry.text) ?? "?")
    }
    #expect(found == ["a=2", "ab=4", "bb=3"])
  }

  @Test func aVersionOneFileHasNoSuggestions() throws {
    let table = try Self.older(LookupTable.builtIn, version: 1)
    #expect(!table.hasSuggestions)
    #expect(table.value(forKey: "morpheus") == "Follow the white rabbit. \u{1F430}")
    var suggester = Suggester()
    #expect(Self.answer(table, &suggester, "morph", typos: 0, limit: 10).0 == .unsupported)
  }

  /// A version 2 file (no node section) lists fewer nodes at load, and suggests exactly
  /// what the current file does.
  @Test func aVersionTwoFileSuggestsAsTheCurrentOne() throws {
    let (table, keys) = Self.index
    let older = try Self.older(table, version: 2)
    #expect(older.nodesListedAtLoad && !table.nodesListedAtLoad)
    #expect(0 < older.listedNodes && older.listedNodes < table.listedNodes)
    var rng = SplitMix64(state: 3)
    var current = Suggester(visitLimit: .max)
    var loaded = Suggester(visitLimit: .max)
    for _ in 0..<300 {
      let text = Self.typed(keys.randomElement(using: &rng)!.text, edits: Int.random(in: 0...2, using: &rng), &rng)
      let typos = Int.random(in: 0...2, using: &rng)
      let want = Self.answer(table, &current, text, typos: typos, limit: 10)
      let got = Self.answer(older, &loaded, text, typos: typos, limit: 10)
      #expect(got == want, "\(text) typos \(typos)")
      if got != want { return }
    }
  }

  /// `table`'s image as an older version wrote it: the same records and bucket table,
  /// without the sections that version lacks.
  static func older(_ table: LookupTable, version: UInt32) throws -> LookupTable {
    var bytes = Array(table.image.bytes)
    func u64(_ at: Int) -> Int {
      bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self))) }
    }
    let suggestAt = u64(24) + u64(32) * 8
    let length = version == 1 ? suggestAt : suggestAt + SuggestSection.byteCount(entries: table.count)
    bytes.removeLast(bytes.count - length)
    reseal(&bytes, version: version, length: length)
    return try bytes.withUnsafeBytes {
      try LookupTable(image: IndexImage(copying: $0), source: "v\(version)", format: .compiled)
    }
  }

  static func reseal(_ bytes: inout [UInt8], version: UInt32, length: Int) {
    func put<T: FixedWidthInteger>(_ v: T, at: Int) {
      withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { bytes[at + i] = b } }
    }
    put(version, at: 8)
    put(UInt64(length), at: 40)
    put(bytes.withUnsafeBytes { IndexFormat.checksum(UnsafeRawBufferPointer(rebasing: $0[64...])) }, at: 48)
    put(bytes.withUnsafeBytes { IndexFormat.checksum(UnsafeRawBufferPointer(rebasing: $0[..<56])) }, at: 56)
  }
}
