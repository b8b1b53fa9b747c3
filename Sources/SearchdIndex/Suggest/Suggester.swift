import SearchdWire

/// Which keys the typed text probably meant: those with a prefix within `typos` edits of
/// it (Unicode scalars inserted, deleted, changed, or two neighbours swapped: the optimal
/// string alignment distance), best first. One per loop: its buffers are reused, so a
/// suggestion allocates nothing once they have grown.
///
/// The walk is a trie's, over the sorted keys (`SuggestSection`): a node is the run of
/// keys sharing a prefix, its children the runs that share one more scalar. Each node
/// carries the edit distances of its prefix to every prefix of the text (a row of the
/// table); a subtree is left as soon as every entry of the row is above the budget, and
/// taken whole, at the best distance on its path, once no entry can lower it.
public struct Suggester: Sendable {
  public struct Suggestion: Sendable, Equatable {
    /// Its position among the sorted keys (`LookupTable.suggestion(at:)`).
    public var position: Int
    public var typos: Int
  }

  public enum Outcome: Sendable, Equatable {
    /// `suggestions` holds the best, in order.
    case complete
    /// The walk met `visitLimit` nodes: `suggestions` holds the best found before it.
    case cut
    /// The index was built without the suggest section (a version 1 file).
    case unsupported
  }

  /// The most trie nodes one suggestion visits: a bound on its time whatever it asks.
  public let visitLimit: Int
  /// The result of the last `suggest`, best first.
  public private(set) var suggestions: [Suggestion] = []

  private var text: [UInt32] = []
  /// The rows of the nodes on the path, `text.count + 1` entries each, the root's first.
  private var rows: [UInt16] = []
  /// The scalars on the path, for a swap's check.
  private var path: [UInt32] = []
  /// The best keys of this pass so far, at most `need`: a max-heap, the worst on top, so a
  /// subtree that cannot beat it is left unwalked.
  private var chosen: [Pick] = []
  private var need = 0
  /// The runs being drawn from, the best key of each first (a min-heap).
  private var pending: [Candidate] = []
  private var visits = 0
  private var budget = 0

  public init(visitLimit: Int = 50_000) { self.visitLimit = visitLimit }

  /// Fills `suggestions` with what `request` asks of `table`.
  public mutating func suggest(_ request: SuggestRequest, in table: LookupTable) -> Outcome {
    suggest(request.text, in: table, limit: request.limit, typos: request.typos)
  }

  /// Fills `suggestions` with at most `limit` keys of `table` near the UTF-8 `typed`.
  public mutating func suggest(
    _ typed: UnsafeRawBufferPointer, in table: LookupTable, limit: Int, typos: Int
  ) -> Outcome {
    suggestions.removeAll(keepingCapacity: true)
    guard let section = table.layout.suggest else { return .unsupported }
    let layout = table.layout
    text.removeAll(keepingCapacity: true)
    var at = 0
    while at < typed.count {
      let (scalar, length) = Self.scalar(typed, at)
      text.append(scalar)
      at += length
    }
    visits = 0
    guard limit > 0, section.count > 0 else { return .complete }
    // Pass 0 is the run of keys starting with the text; then each further typo, the walk
    // keeping only what is exactly that far, until `limit` are found.
    begin(limit: limit)
    offer(prefixRun(typed, section, layout), section)
    finish(typos: 0)
    var cut = false
    // The empty text has every key at distance 0: pass 0 found them.
    if typos > 0 && !text.isEmpty {
      for pass in 1...typos where suggestions.count < limit {
        budget = pass
        begin(limit: limit)
        let m = text.count
        rows.removeAll(keepingCapacity: true)
        for j in 0...m { rows.append(UInt16(j)) }
        path.removeAll(keepingCapacity: true)
        if !walk(0..<section.count, depth: 0, best: m, section, layout) { cut = true }
        finish(typos: pass)
        if cut { break }
      }
    }
    return cut ? .cut : .complete
  }

  // MARK: The walk

  /// Visits the node of the keys in `run`, `depth` bytes into each, whose row is the last
  /// in `rows`; `best` is the least distance of the text to a prefix on its path. False
  /// when the visit limit cut it short.
  private mutating func walk(
    _ run: Range<Int>, depth: Int, best: Int, _ section: SuggestSection, _ layout: IndexLayout
  ) -> Bool {
    // A subtree whose best key is no better than the worst chosen so far has nothing to give.
    if chosen.count == need {
      let (position, length) = section.shortest(run.lowerBound, run.upperBound)
      if !Pick(length: length, position: position).before(chosen[0]) { return true }
    }
    let m = text.count
    let rowAt = rows.count - (m + 1)
    var least = Int.max
    for j in 0...m { least = min(least, Int(rows[rowAt + j])) }
    if best <= budget && least >= best {
      if best == budget { offer(run, section) }
      return true
    }
    if least > budget { return true }
    var i = run.lowerBound
    if key(i, section, layout).count == depth {
      if best == budget { offer(i..<(i + 1), section) }
      i += 1
    }
    let t = path.count + 1
    while i < run.upperBound {
      visits += 1
      if visits > visitLimit { return false }
      let k = key(i, section, layout)
      // Only a lying file puts a key this short inside a run: passed over.
      guard k.count > depth else {
        i += 1
        continue
      }
      let (scalar, length) = Self.scalar(k, depth)
      let end = runEnd(from: i, to: run.upperBound, depth: depth, k, length, section, layout)
      // The child's row, from its parent's (and grandparent's, for a swap).
      let parent = rows.count - (m + 1)
      rows.append(UInt16(t))
      for j in 1...m {
        let sub = rows[parent + j - 1] + (text[j - 1] == scalar ? 0 : 1)
        var d = min(rows[parent + j] + 1, rows[parent + m + j] + 1, sub)
        if t >= 2, j >= 2, text[j - 2] == scalar, text[j - 1] == path[t - 2] {
          d = min(d, rows[parent - (m + 1) + j - 2] + 1)
        }
        rows.append(d)
      }
      path.append(scalar)
      let ok = walk(i..<end, depth: depth + length, best: min(best, Int(rows[rows.count - 1])), section, layout)
      path.removeLast()
      rows.removeLast(m + 1)
      if !ok { return false }
      i = end
    }
    return true
  }

  /// The end of the run from `i` whose keys share `first`'s `length` bytes at `depth`:
  /// galloping, so a short run costs a few comparisons whatever the index's size.
  private func runEnd(
    from i: Int, to end: Int, depth: Int, _ first: UnsafeRawBufferPointer, _ length: Int,
    _ section: SuggestSection, _ layout: IndexLayout
  ) -> Int {
    func same(_ p: Int) -> Bool {
      let k = key(p, section, layout)
      guard k.count >= depth + length else { return false }
      for b in 0..<length where k[depth + b] != first[depth + b] { return false }
      return true
    }
    // Often the whole run is one child: its last key says so.
    if same(end - 1) { return end }
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
    return outside
  }

  /// The keys starting with `typed`: two binary searches.
  private func prefixRun(_ typed: UnsafeRawBufferPointer, _ section: SuggestSection, _ layout: IndexLayout)
    -> Range<Int>
  {
    // Order of a key's first `typed.count` bytes against `typed`.
    func order(_ p: Int) -> Int {
      let k = key(p, section, layout)
      let n = min(k.count, typed.count)
      for b in 0..<n where k[b] != typed[b] { return k[b] < typed[b] ? -1 : 1 }
      return k.count < typed.count ? -1 : 0
    }
    var lo = 0
    var hi = section.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if order(mid) < 0 { lo = mid + 1 } else { hi = mid }
    }
    var end = lo
    hi = section.count
    while end < hi {
      let mid = (end + hi) / 2
      if order(mid) <= 0 { end = mid + 1 } else { hi = mid }
    }
    return lo..<end
  }

  @inline(__always) private func key(_ p: Int, _ section: SuggestSection, _ layout: IndexLayout)
    -> UnsafeRawBufferPointer
  {
    // A record outside the records (a lying file) reads as the empty key.
    layout.record(at: section.offset(p))?.key ?? UnsafeRawBufferPointer(start: nil, count: 0)
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

  // MARK: Choosing the best

  /// A key as ranked within a pass: the shorter first, then byte order, which is the
  /// sorted order.
  private struct Pick: Sendable {
    var length: UInt8
    var position: Int

    func before(_ other: Pick) -> Bool {
      length != other.length ? length < other.length : position < other.position
    }
  }

  /// A run and its best key.
  private struct Candidate: Sendable {
    var pick: Pick
    var run: Range<Int>
  }

  private mutating func begin(limit: Int) {
    need = limit - suggestions.count
    chosen.removeAll(keepingCapacity: true)
  }

  /// Appends this pass's picks, best first, all at distance `typos`.
  private mutating func finish(typos: Int) {
    // Worst first off the heap, so filled from the back (a sort would allocate its buffer).
    let base = suggestions.count
    for _ in chosen { suggestions.append(Suggestion(position: 0, typos: typos)) }
    var at = suggestions.count
    while let worst = chosen.first {
      at -= 1
      suggestions[at].position = worst.position
      let last = chosen.removeLast()
      if !chosen.isEmpty { replaceWorst(last) }
    }
    precondition(at == base)
  }

  /// Draws the keys of `run` (all at this pass's distance) into `chosen` while they beat
  /// its worst: its shortest key first, then the shortest of what is either side of it.
  private mutating func offer(_ run: Range<Int>, _ section: SuggestSection) {
    guard need > 0 else { return }
    pending.removeAll(keepingCapacity: true)
    push(run, section)
    while let best = popPending() {
      if chosen.count == need {
        guard best.pick.before(chosen[0]) else { break }
        replaceWorst(best.pick)
      } else {
        insert(best.pick)
      }
      push(best.run.lowerBound..<best.pick.position, section)
      push((best.pick.position + 1)..<best.run.upperBound, section)
    }
  }

  private mutating func push(_ run: Range<Int>, _ section: SuggestSection) {
    guard !run.isEmpty else { return }
    let (position, length) = section.shortest(run.lowerBound, run.upperBound)
    pending.append(Candidate(pick: Pick(length: length, position: position), run: run))
    var i = pending.count - 1
    while i > 0 {
      let up = (i - 1) / 2
      guard pending[i].pick.before(pending[up].pick) else { break }
      pending.swapAt(i, up)
      i = up
    }
  }

  private mutating func popPending() -> Candidate? {
    guard let last = pending.popLast() else { return nil }
    guard !pending.isEmpty else { return last }
    let top = pending[0]
    pending[0] = last
    var i = 0
    while true {
      let l = 2 * i + 1
      let r = l + 1
      var least = i
      if l < pending.count && pending[l].pick.before(pending[least].pick) { least = l }
      if r < pending.count && pending[r].pick.before(pending[least].pick) { least = r }
      if least == i { break }
      pending.swapAt(i, least)
      i = least
    }
    return top
  }

  /// Into the max-heap `chosen`, which has room.
  private mutating func insert(_ pick: Pick) {
    chosen.append(pick)
    var i = chosen.count - 1
    while i > 0 {
      let up = (i - 1) / 2
      guard chosen[up].before(chosen[i]) else { break }
      chosen.swapAt(i, up)
      i = up
    }
  }

  /// Puts `pick` in place of the worst chosen.
  private mutating func replaceWorst(_ pick: Pick) {
    chosen[0] = pick
    var i = 0
    while true {
      let l = 2 * i + 1
      let r = l + 1
      var worst = i
      if l < chosen.count && chosen[worst].before(chosen[l]) { worst = l }
      if r < chosen.count && chosen[worst].before(chosen[r]) { worst = r }
      if worst == i { break }
      chosen.swapAt(i, worst)
      i = worst
    }
  }
}
