/// The members of a JSON object a reader asks for by name, in one walk, the last of a name
/// winning (as Python's `json.loads`); nothing is allocated once its buffers have grown.
struct MemberReader: Sendable {
  enum Found: Equatable, Sendable {
    case absent, other, integer(Int)
    /// Where the string lies in the document, or (`copied`) in this reader's copies.
    case string(Range<Int>, copied: Bool)
  }

  private(set) var found = InlineArray<4, Found>(repeating: .absent)
  /// The first key given twice, where that is refused.
  private(set) var duplicate: String?
  private var scratch = (keys: [UInt8](), values: [UInt8]())
  private var copies: [UInt8] = []
  private var seen = KeySet()
  typealias Names = (StaticString, StaticString, StaticString, StaticString)

  mutating func read(
    _ json: UnsafeRawBufferPointer, _ names: Names, maxDepth: Int, knownUTF8: Bool, refusingDuplicates: Bool
  ) throws(JSONParser.Failure) {
    (found, duplicate) = (.init(repeating: .absent), nil)
    if !copies.isEmpty { copies.removeAll(keepingCapacity: true) }
    if refusingDuplicates { seen.reset(room: json.count) }
    var scratch = (keys: [UInt8](), values: [UInt8]())
    swap(&scratch, &self.scratch)  // out of `self`, which the walk's callback writes
    defer { swap(&scratch, &self.scratch) }
    try JSONParser.forEachMember(
      ofObject: json, maxDepth: maxDepth, knownUTF8: knownUTF8, keyScratch: &scratch.keys,
      valueScratch: &scratch.values
    ) { key, member, _ in
      let i =
        key.equals(names.0) ? 0 : key.equals(names.1) ? 1 : key.equals(names.2) ? 2 : key.equals(names.3) ? 3 : nil
      // A name asked for is a duplicate when found twice: only the other keys are hashed.
      if refusingDuplicates && duplicate == nil && (i.map { found[$0] != .absent } ?? !seen.insert(key)) {
        duplicate = String(decoding: key, as: UTF8.self)
      }
      guard let i else { return true }
      switch member {
      case .string(let s):
        let at = s.baseAddress.flatMap { p in json.baseAddress.map { p - $0 } } ?? -1
        let inPlace = at >= 0 && at < json.count
        found[i] = .string(inPlace ? at..<(at + s.count) : copies.count..<(copies.count + s.count), copied: !inPlace)
        if !inPlace { copies.append(contentsOf: s) }
      case .number(let literal, isInteger: true): found[i] = JSONParser.integer(literal).map(Found.integer) ?? .other
      default: found[i] = .other
      }
      return true
    }
  }

  /// The `i`th name's string, if one: bytes of `json` (the document read, or its copy) or of `copies`.
  @inline(__always) func string(_ i: Int, in json: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
    guard case .string(let r, let copied) = found[i] else { return nil }
    return copied ? copies.withUnsafeBytes { .init(rebasing: $0[r]) } : .init(rebasing: json[r])
  }

  /// The `i`th name's integer option: `absent` if it was, nil unless an integer in `range`.
  func option(_ i: Int, _ range: ClosedRange<Int>, absent: Int) -> Int? {
    switch found[i] {
    case .absent: absent
    case .integer(let n) where range.contains(n): n
    default: nil
    }
  }
}

/// Keys, to find one given twice: a header may hold thousands, too many to compare pairwise.
private struct KeySet: @unchecked Sendable {
  private var bytes: [UInt8] = []
  private var set = Set<Key>()

  /// Empties the set, with room for `room` bytes of keys: they must not move (`Key` points in).
  mutating func reset(room: Int) {
    bytes.removeAll(keepingCapacity: true)
    bytes.reserveCapacity(room)
    if !set.isEmpty { set.removeAll(keepingCapacity: true) }
  }

  /// Adds `key`: false if it was there already.
  mutating func insert(_ key: UnsafeRawBufferPointer) -> Bool {
    bytes.append(contentsOf: key)
    return set.insert(Key(bytes: bytes.withUnsafeBytes { .init(rebasing: $0[($0.count - key.count)...]) })).inserted
  }

  private struct Key: Hashable {
    let bytes: UnsafeRawBufferPointer
    func hash(into hasher: inout Hasher) { hasher.combine(bytes: bytes) }
    static func == (a: Self, b: Self) -> Bool { a.bytes.equals(b.bytes) }
  }
}
