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
  public internal(set) var suggestions: [Suggestion] = []

  private var text: [UInt32] = []
  /// The rows of the nodes on the path, `text.count + 1` entries each, row t for the node
  /// t scalars deep (sized for the deepest a walk can go, so a step writes in place).
  private var rows: [UInt16] = []
  /// The scalars on the path (path[t - 1] ends the prefix of depth t), for a swap's check.
  private var path: [UInt32] = []
  /// The scalars a node's children may continue with when no typo is left (scratch).
  private var wanted: [UInt32] = []
  /// The best keys of this pass so far, at most `need`: a max-heap, the worst on top, so a
  /// subtree that cannot beat it is left unwalked.
  var chosen: [Pick] = []
  var need = 0
  /// The runs being drawn from, the best key of each first (a min-heap).
  var pending: [Candidate] = []
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
    guard let section = table.layout.suggest, let nodes = table.nodes else { return .unsupported }
    let trie = KeyTrie(section: section, layout: table.layout)
    text.removeAll(keepingCapacity: true)
    var at = 0
    while at < typed.count {
      let (scalar, length) = KeyTrie.scalar(typed, at)
      text.append(scalar)
      at += length
    }
    visits = 0
    guard limit > 0, section.count > 0 else { return .complete }
    // Pass 0 is the run of keys starting with the text; then each further typo, the walk
    // keeping only what is exactly that far, until `limit` are found.
    begin(limit: limit)
    offer(trie.prefixRun(typed, nodes), section)
    finish(typos: 0)
    var cut = false
    // The empty text has every key at distance 0: pass 0 found them.
    if typos > 0 && !text.isEmpty {
      for pass in 1...typos where suggestions.count < limit {
        budget = pass
        begin(limit: limit)
        let m = text.count
        // A node deeper than m + pass scalars has every entry of its row above the budget.
        let deepest = m + pass + 2
        if rows.count < deepest * (m + 1) { rows = [UInt16](repeating: 0, count: deepest * (m + 1)) }
        if path.count < deepest { path = [UInt32](repeating: 0, count: deepest) }
        for j in 0...m { rows[j] = UInt16(j) }
        if !walk(0..<section.count, depth: 0, t: 0, best: m, node: nodes.root, ends: nil, trie, nodes) { cut = true }
        finish(typos: pass)
        if cut { break }
      }
    }
    return cut ? .cut : .complete
  }

  // MARK: The walk

  /// Visits the node of the keys in `run`, `depth` bytes and `t` scalars into each, whose
  /// row is row `t`; `best` is the least distance of the text to a prefix on its path;
  /// `node` its entry in `nodes`, or -1; `ends` whether its first key is its prefix, when
  /// `nodes` says. False when the visit limit cut it short.
  private mutating func walk(
    _ run: Range<Int>, depth: Int, t: Int, best: Int, node: Int, ends: Bool?, _ trie: KeyTrie, _ nodes: NodeSection
  ) -> Bool {
    // A subtree whose best key is no better than the worst chosen so far has nothing to give.
    if chosen.count == need {
      let (position, length) = trie.section.shortest(run.lowerBound, run.upperBound)
      if !Pick(length: length, position: position).before(chosen[0]) { return true }
    }
    let m = text.count
    let rowAt = t * (m + 1)
    var least = Int.max
    for j in 0...m { least = min(least, Int(rows[rowAt + j])) }
    if best <= budget && least >= best {
      if best == budget { offer(run, trie.section) }
      return true
    }
    if least > budget { return true }
    var i = run.lowerBound
    if ends ?? trie.ends(i, depth: depth, t: t) {
      if best == budget { offer(i..<(i + 1), trie.section) }
      i += 1
    }
    if least == budget { return follow(i..<run.upperBound, depth: depth, t: t, best: best, node: node, trie, nodes) }
    if node >= 0 {
      for entry in nodes.children(of: node) {
        let c = nodes.child(entry)
        guard step(c.start..<c.end, c.scalar, depth: depth + c.length, t: t + 1, best, c.node, c.ends, trie, nodes)
        else { return false }
      }
      return true
    }
    while i < run.upperBound {
      guard let c = trie.child(from: i, to: run.upperBound, depth: depth) else {
        i += 1
        continue
      }
      guard step(i..<c.end, c.scalar, depth: depth + c.length, t: t + 1, best, -1, nil, trie, nodes) else {
        return false
      }
      i = c.end
    }
    return true
  }

  /// The children of a node whose row's least entry is the budget: no typo is left, so a
  /// child can keep an entry within it only by matching the text where the row is at the
  /// budget (or completing a swap begun one scalar up). Those few are looked up, not every
  /// child walked.
  private mutating func follow(
    _ run: Range<Int>, depth: Int, t: Int, best: Int, node: Int, _ trie: KeyTrie, _ nodes: NodeSection
  ) -> Bool {
    let m = text.count
    let row = t * (m + 1)
    // This node's scalars go on top of its ancestors' (a stack: the walk nests).
    let base = wanted.count
    defer { wanted.removeLast(wanted.count - base) }
    for j in 1...m where Int(rows[row + j - 1]) == budget { want(text[j - 1], after: base) }
    if t >= 1 {
      let up = (t - 1) * (m + 1)
      for j in stride(from: 2, through: m, by: 1)
      where Int(rows[up + j - 2]) < budget && text[j - 1] == path[t - 1] {
        want(text[j - 2], after: base)
      }
    }
    let end = wanted.count
    var at = base
    while at < end {
      let scalar = wanted[at]
      at += 1
      if node >= 0 {
        guard let entry = nodes.child(of: node, scalar: scalar) else { continue }
        let c = nodes.child(entry)
        guard step(c.start..<c.end, scalar, depth: depth + c.length, t: t + 1, best, c.node, c.ends, trie, nodes) else {
          return false
        }
        continue
      }
      let (child, length) = trie.childRun(in: run, depth: depth, scalar: scalar)
      if child.isEmpty { continue }
      guard step(child, scalar, depth: depth + length, t: t + 1, best, -1, nil, trie, nodes) else { return false }
    }
    return true
  }

  private mutating func want(_ scalar: UInt32, after base: Int) {
    for i in base..<wanted.count where wanted[i] == scalar { return }
    wanted.append(scalar)
  }

  /// Walks the child `run`, `t` scalars deep, its prefix ending in `scalar`: the child's row
  /// from its parent's (and grandparent's, for a swap).
  @inline(__always) private mutating func step(
    _ run: Range<Int>, _ scalar: UInt32, depth: Int, t: Int, _ best: Int, _ node: Int, _ ends: Bool?,
    _ trie: KeyTrie, _ nodes: NodeSection
  ) -> Bool {
    visits += 1
    if visits > visitLimit { return false }
    let m = text.count
    path[t - 1] = scalar
    let last = text.withUnsafeBufferPointer { q in
      path.withUnsafeBufferPointer { path in
        rows.withUnsafeMutableBufferPointer { r in
          let parent = (t - 1) * (m + 1)
          let child = t * (m + 1)
          r[child] = UInt16(t)
          for j in 1...m {
            var d = min(r[parent + j] + 1, r[child + j - 1] + 1, r[parent + j - 1] + (q[j - 1] == scalar ? 0 : 1))
            if t >= 2, j >= 2, q[j - 2] == scalar, q[j - 1] == path[t - 2] {
              d = min(d, r[parent - (m + 1) + j - 2] + 1)
            }
            r[child + j] = d
          }
          return Int(r[child + m])
        }
      }
    }
    return walk(run, depth: depth, t: t, best: min(best, last), node: node, ends: ends, trie, nodes)
  }
}
