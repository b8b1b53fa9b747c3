/// The sorted keys read as a trie (`SuggestSection`): a node is the run of keys sharing a
/// prefix, its children the runs that share one more Unicode scalar.
struct KeyTrie {
  let section: SuggestSection
  let base: UnsafeRawPointer
  let recordsEnd: UInt64

  init(section: SuggestSection, base: UnsafeRawPointer, recordsEnd: UInt64) {
    self.section = section
    self.base = base
    self.recordsEnd = recordsEnd
  }

  init(section: SuggestSection, layout: IndexLayout) {
    self.init(section: section, base: layout.base, recordsEnd: layout.recordsEnd)
  }

  var count: Int { section.count }

  /// The key at sorted position `p`; a record outside the records (a lying file) reads as
  /// the empty key.
  @inline(__always) func key(_ p: Int) -> UnsafeRawBufferPointer {
    IndexLayout.record(at: section.offset(p), base: base, recordsEnd: recordsEnd)?.key
      ?? UnsafeRawBufferPointer(start: nil, count: 0)
  }

  /// Whether the key at `p`, under a node `t` scalars and `depth` bytes deep, is that
  /// node's prefix itself: told by its length in scalars, a byte beside the levels, rather
  /// than by its record, a read from anywhere in the file.
  @inline(__always) func ends(_ p: Int, depth: Int, t: Int) -> Bool {
    let length = section.length(p)
    return length < 255 ? Int(length) == t : key(p).count == depth
  }

  /// The child whose run starts at `i` inside a node's run ending at `end`, `depth` bytes
  /// in: its scalar, the scalar's length in bytes and where its run ends. nil when the key
  /// at `i` is not longer than `depth` (only a lying file puts one there after the first).
  @inline(__always) func child(from i: Int, to end: Int, depth: Int) -> (scalar: UInt32, length: Int, end: Int)? {
    let first = key(i)
    guard first.count > depth else { return nil }
    let (scalar, length) = Self.scalar(first, depth)
    func same(_ p: Int) -> Bool {
      let k = key(p)
      guard k.count >= depth + length else { return false }
      for b in 0..<length where k[depth + b] != first[depth + b] { return false }
      return true
    }
    // Often the whole run is one child: its last key says so.
    if same(end - 1) { return (scalar, length, end) }
    // Galloping, so a short run costs a few comparisons whatever the index's size.
    var inside = i
    var step = 1
    while inside + step < end && same(inside + step) {
      inside += step
      step *= 2
    }
    var outside = min(inside + step, end)
    while outside - inside > 1 {
      let mid = (inside + outside) / 2
      if same(mid) { inside = mid } else { outside = mid }
    }
    return (scalar, length, outside)
  }

  /// The run of the child of the node `run` (`depth` bytes in) that continues with
  /// `scalar`, and the scalar's length in bytes: two binary searches.
  func childRun(in run: Range<Int>, depth: Int, scalar: UInt32) -> (Range<Int>, Int) {
    var bytes: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
    let length = withUnsafeMutableBytes(of: &bytes) { out in
      guard let s = Unicode.Scalar(scalar) else {
        // A malformed byte of a lying file, read as itself.
        out[0] = UInt8(truncatingIfNeeded: scalar)
        return 1
      }
      var n = 0
      for b in UTF8.encode(s)! {
        out[n] = b
        n += 1
      }
      return n
    }
    // Order of a key's bytes at depth..<depth+length against the scalar's.
    func order(_ p: Int) -> Int {
      let k = key(p)
      return withUnsafeBytes(of: bytes) { want in
        for b in 0..<length {
          guard depth + b < k.count else { return -1 }
          if k[depth + b] != want[b] { return k[depth + b] < want[b] ? -1 : 1 }
        }
        return 0
      }
    }
    var lo = run.lowerBound
    var hi = run.upperBound
    while lo < hi {
      let mid = (lo + hi) / 2
      if order(mid) < 0 { lo = mid + 1 } else { hi = mid }
    }
    guard lo < run.upperBound, order(lo) == 0 else { return (lo..<lo, length) }
    // Its end by galloping from its start: a child's run is short beside its parent's.
    return (lo..<(child(from: lo, to: run.upperBound, depth: depth)?.end ?? lo + 1), length)
  }

  /// The keys starting with `typed`: down the listed nodes while they go, then two binary
  /// searches in the run left.
  func prefixRun(_ typed: UnsafeRawBufferPointer, _ nodes: NodeSection) -> Range<Int> {
    var lo = 0
    var hi = count
    var node = nodes.root
    var at = 0
    while node >= 0 && at < typed.count {
      let (scalar, length) = Self.scalar(typed, at)
      guard let i = nodes.child(of: node, scalar: scalar) else { return 0..<0 }
      let c = nodes.child(i)
      (lo, hi, node) = (c.start, c.end, c.node)
      at += length
    }
    if at == typed.count { return lo..<hi }
    return prefixRun(typed, in: lo..<hi)
  }

  /// The keys of `run` starting with `typed`.
  private func prefixRun(_ typed: UnsafeRawBufferPointer, in run: Range<Int>) -> Range<Int> {
    // Order of a key's first `typed.count` bytes against `typed`.
    func order(_ p: Int) -> Int {
      let k = key(p)
      let n = min(k.count, typed.count)
      for b in 0..<n where k[b] != typed[b] { return k[b] < typed[b] ? -1 : 1 }
      return k.count < typed.count ? -1 : 0
    }
    var lo = run.lowerBound
    var hi = run.upperBound
    while lo < hi {
      let mid = (lo + hi) / 2
      if order(mid) < 0 { lo = mid + 1 } else { hi = mid }
    }
    var end = lo
    hi = run.upperBound
    while end < hi {
      let mid = (end + hi) / 2
      if order(mid) <= 0 { end = mid + 1 } else { hi = mid }
    }
    return lo..<end
  }

  /// The scalar starting at `at` and its length in bytes; a malformed one reads as one
  /// byte, so a corrupt key cannot stall or overrun the walk.
  @inline(__always) static func scalar(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> (UInt32, Int) {
    let b0 = UInt32(bytes[at])
    let length = b0 < 0x80 ? 1 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 1
    guard length > 1, at + length <= bytes.count else { return (b0, 1) }
    var value = b0 & (0x7F >> UInt32(length))
    for i in 1..<length {
      let b = UInt32(bytes[at + i])
      guard b & 0xC0 == 0x80 else { return (b0, 1) }
      value = value << 6 | b & 0x3F
    }
    return (value, length)
  }
}
