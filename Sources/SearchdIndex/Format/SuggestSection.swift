import Glibc

/// What suggestions read, after the bucket table in a version 2 file (IndexFormat):
///
///     sorted   u64 × entries  record offsets, their keys in byte order (= Unicode scalar order)
///     lengths  u8 × entries   each sorted key's length in Unicode scalars, 255 for longer
///     levels   u8 each        level k+1's entry i is the least of level k's 64i..<64i+64,
///                             level 0 being the lengths, until a level has at most 64
///     padding  to a multiple of 8
///
/// The sorted keys are a trie without nodes: the keys under a prefix are one run of them.
/// The levels find the shortest key of any run in a few hundred byte reads, so a prefix
/// of a million keys answers its ten shortest without reading the million.
@usableFromInline struct SuggestSection {
  static let fanOut = 64

  /// The byte sizes of the levels above the lengths, lowest first.
  static func levelCounts(entries: Int) -> [Int] {
    var counts: [Int] = []
    var n = entries
    while n > fanOut {
      n = (n + fanOut - 1) / fanOut
      counts.append(n)
    }
    return counts
  }

  /// The section's size for `entries` keys.
  static func byteCount(entries: Int) -> Int {
    let bytes = entries * 9 + levelCounts(entries: entries).reduce(0, +)
    return (bytes + 7) & ~7
  }

  let sorted: UnsafePointer<UInt64>
  let count: Int
  /// Level 0 is the lengths.
  private let levels: [UnsafePointer<UInt8>]
  private let levelSizes: [Int]

  /// The section at `at` for `entries` keys; the caller checked it lies inside the file.
  init(at: UnsafeRawPointer, entries: Int) {
    sorted = at.assumingMemoryBound(to: UInt64.self)
    count = entries
    var level = (at + entries * 8).assumingMemoryBound(to: UInt8.self)
    var levels = [level]
    var sizes = [entries]
    for n in Self.levelCounts(entries: entries) {
      level += sizes.last!
      levels.append(level)
      sizes.append(n)
    }
    self.levels = levels
    levelSizes = sizes
  }

  @inline(__always) func offset(_ i: Int) -> UInt64 { UInt64(littleEndian: sorted[i]) }
  @inline(__always) func length(_ i: Int) -> UInt8 { levels[0][i] }

  /// The first position in `l..<r` holding the least length there, and that length.
  func shortest(_ l: Int, _ r: Int) -> (position: Int, length: UInt8) {
    precondition(0 <= l && l < r && r <= count)
    return least(level: 0, l, r)
  }

  /// The leftmost least entry of `level` in `l..<r`: the ends scanned, the middle asked of
  /// the level above and followed down to the entry it stands for.
  private func least(level k: Int, _ l: Int, _ r: Int) -> (position: Int, length: UInt8) {
    let fan = Self.fanOut
    if k + 1 == levels.count || r - l <= 2 * fan { return scan(level: k, l, r) }
    let firstWhole = (l + fan - 1) / fan
    let endWhole = r / fan
    if firstWhole >= endWhole { return scan(level: k, l, r) }
    var best = scan(level: k, l, firstWhole * fan)
    let middle = least(level: k + 1, firstWhole, endWhole)
    if best.position < 0 || middle.length < best.length {
      best = (descend(from: k + 1, middle.position, to: k), middle.length)
    }
    let right = scan(level: k, endWhole * fan, r)
    if right.position >= 0 && (best.position < 0 || right.length < best.length) { best = right }
    return best
  }

  /// The leftmost least entry of level `to` under entry `i` of level `from`.
  private func descend(from: Int, _ i: Int, to: Int) -> Int {
    var i = i
    var k = from
    while k > to {
      k -= 1
      let l = i * Self.fanOut
      i = scan(level: k, l, min(l + Self.fanOut, levelSizes[k])).position
    }
    return i
  }

  /// -1 for an empty range.
  @inline(__always) private func scan(level k: Int, _ l: Int, _ r: Int) -> (position: Int, length: UInt8) {
    var best = (position: -1, length: UInt8.max)
    let level = levels[k]
    var i = l
    while i < r {
      if best.position < 0 || level[i] < best.length { best = (i, level[i]) }
      i += 1
    }
    return best
  }
}

extension SuggestSection {
  /// Writes the section for `sorted` (record offsets in key order) at `at`, whose keys'
  /// scalar counts `length` gives.
  static func write(sorted: [UInt64], to at: UnsafeMutableRawPointer, length: (UInt64) -> Int) {
    let n = sorted.count
    for (i, offset) in sorted.enumerated() {
      at.storeBytes(of: offset.littleEndian, toByteOffset: i * 8, as: UInt64.self)
    }
    var level = (at + n * 8).assumingMemoryBound(to: UInt8.self)
    for (i, offset) in sorted.enumerated() { level[i] = UInt8(min(length(offset), 255)) }
    var size = n
    for next in levelCounts(entries: n) {
      let above = level + size
      for i in 0..<next {
        var least = UInt8.max
        for j in (i * fanOut)..<min(i * fanOut + fanOut, size) { least = min(least, level[j]) }
        above[i] = least
      }
      level = above
      size = next
    }
    let end = n * 9 + levelCounts(entries: n).reduce(0, +)
    memset(at + end, 0, byteCount(entries: n) - end)
  }
}
