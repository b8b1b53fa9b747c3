/// The trie's biggest nodes and their children, after the suggest section in a version 3
/// file (IndexFormat), so a walk finds a child of a node of millions of keys in a few
/// reads instead of a binary search through records anywhere in the file:
///
///     nodes     u64            N, the nodes listed (node 0 the root), 0 for none
///     children  u64            C
///     firsts    u32 × (N + 1)  node i's children are entries firsts[i]..<firsts[i + 1]
///     padding   to a multiple of 8
///     child     16 bytes × C   u32 start, u32 end: its run of sorted keys; u32 its scalar
///                              (bits 0-22; a lone byte of a malformed key as itself),
///                              whether the run's first key is the child's prefix itself
///                              (bit 23) and the scalar's UTF-8 length (bits 24-31); u32
///                              its own node, or 0xFFFF_FFFF when its children are not
///                              listed (its run is small enough to walk)
/// Nodes are listed breadth first, so each child's node is the next one listed: checked
/// whole at load (`init(validating:entries:)`), after which a walk trusts every run.
@usableFromInline struct NodeSection {
  static let headerSize = 16
  static let childSize = 16
  static let unlisted: UInt32 = 0xFFFF_FFFF

  struct Child {
    var start: Int
    var end: Int
    var scalar: UInt32
    var length: Int
    /// Whether the key at `start` is the child's prefix itself.
    var ends: Bool
    /// Its own node, or -1.
    var node: Int
  }

  private let base: UnsafeRawPointer
  let nodeCount: Int
  private let childCount: Int
  private let childrenAt: Int

  static func byteCount(nodes: Int, children: Int) -> Int {
    headerSize + (((nodes + 1) * 4 + 7) & ~7) + children * childSize
  }

  /// The section in `bytes` (8-aligned) for an index of `entries` keys: its sizes add up to
  /// `bytes.count`, and every child lies inside its parent's run, after its elder sibling.
  init(validating bytes: UnsafeRawBufferPointer, entries: Int) throws(IndexFormatError) {
    func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.load(fromByteOffset: at, as: UInt64.self)) }
    guard bytes.count >= Self.headerSize else { throw .corruptHeader("node section of \(bytes.count) bytes") }
    let nodes = u64(0)
    let children = u64(8)
    guard nodes < UInt64(UInt32.max), children < UInt64(UInt32.max),
      Self.byteCount(nodes: Int(nodes), children: Int(children)) == bytes.count
    else { throw .corruptHeader("node section of \(nodes) nodes, \(children) children in \(bytes.count) bytes") }
    base = bytes.baseAddress!
    nodeCount = Int(nodes)
    childCount = Int(children)
    childrenAt = Self.headerSize + (((nodeCount + 1) * 4 + 7) & ~7)
    try check(entries: entries)
  }

  private func check(entries: Int) throws(IndexFormatError) {
    guard nodeCount > 0 else { return }
    // The run of each node, known once its parent's entry is read (parents come first).
    var runs = [Range<Int>](repeating: 0..<0, count: nodeCount)
    runs[0] = 0..<entries
    var next = 1
    guard first(0) == 0, first(nodeCount) == childCount else { throw .corruptHeader("node section's ends") }
    for node in 0..<nodeCount {
      guard first(node) <= first(node + 1) else { throw .corruptHeader("node \(node)'s children") }
      var after = runs[node].lowerBound
      for i in first(node)..<first(node + 1) {
        let c = child(i)
        guard after <= c.start, c.start < c.end, c.end <= runs[node].upperBound, (1...4).contains(c.length) else {
          throw .corruptHeader("node \(node)'s child \(i)")
        }
        after = c.end
        if c.node >= 0 {
          // The next node, after this one: so each node's run is known before it is read.
          guard c.node == next, next > node, next < nodeCount else {
            throw .corruptHeader("node \(node)'s child \(i) names node \(c.node)")
          }
          runs[next] = c.start..<c.end
          next += 1
        }
      }
    }
    guard next == nodeCount else { throw .corruptHeader("\(nodeCount - next) nodes no child names") }
  }

  @inline(__always) private func first(_ node: Int) -> Int {
    Int(UInt32(littleEndian: base.load(fromByteOffset: Self.headerSize + node * 4, as: UInt32.self)))
  }

  /// Node 0 when the root's children are listed, else -1.
  var root: Int { nodeCount > 0 ? 0 : -1 }

  /// The entries of node `node`'s children, in key order.
  @inline(__always) func children(of node: Int) -> Range<Int> { first(node)..<first(node + 1) }

  @inline(__always) func child(_ i: Int) -> Child {
    let at = base + childrenAt + i * Self.childSize
    func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: at.load(fromByteOffset: o, as: UInt32.self)) }
    let scalar = u32(8)
    let node = u32(12)
    return Child(
      start: Int(u32(0)), end: Int(u32(4)), scalar: scalar & 0x7F_FFFF, length: Int(scalar >> 24),
      ends: scalar & 0x80_0000 != 0, node: node == Self.unlisted ? -1 : Int(node))
  }

  /// The entry of node `node`'s child continuing with `scalar`, if any: children are in
  /// key order, which is scalar order.
  @inline(__always) func child(of node: Int, scalar: UInt32) -> Int? {
    var lo = first(node)
    var hi = first(node + 1)
    while lo < hi {
      let mid = (lo + hi) / 2
      if child(mid).scalar < scalar { lo = mid + 1 } else { hi = mid }
    }
    return lo < first(node + 1) && child(lo).scalar == scalar ? lo : nil
  }
}

extension NodeSection {
  /// Which nodes are listed: those of at least `threshold` keys, breadth first, up to
  /// `maxChildren` children in all.
  struct Listing {
    var threshold: Int
    var maxChildren: Int
  }

  /// What `searchd-index build` lists: below 64 keys a binary search is six record reads,
  /// and about a child for every four keys at most (1.1 million, 18 MB, for ten million
  /// keys of the benchmark's digits; a key set of long shared prefixes stops there).
  static func listedWhenBuilt(entries: Int) -> Listing { Listing(threshold: 64, maxChildren: entries / 4) }

  /// What a version 2 file gets at load: listing walks records at random, so few enough
  /// that ten million keys still start within 0.3 s.
  static let listedAtLoad = Listing(threshold: 256, maxChildren: 16_384)

  /// The section for the keys `trie` reads: breadth first from the root, every node of at
  /// least `threshold` keys lists its children, until `maxChildren` are listed; the nodes
  /// queued past that point (the tail of the order) are then left unlisted.
  static func encode(_ trie: KeyTrie, _ listing: Listing) -> [UInt8] {
    let (threshold, maxChildren) = (listing.threshold, listing.maxChildren)
    var firsts: [UInt32] = []
    var children: [(start: Int, end: Int, scalar: UInt32, length: Int, ends: Bool, node: UInt32)] = []
    if trie.count >= threshold && trie.count < Int(UInt32.max) {
      // (node's run, its depth in bytes); the queue is the list of nodes.
      var queue: [(Range<Int>, Int)] = [(0..<trie.count, 0)]
      var next = 0
      while next < queue.count {
        let (run, depth) = queue[next]
        next += 1
        if children.count >= maxChildren { break }
        firsts.append(UInt32(children.count))
        var i = run.lowerBound
        if trie.key(i).count == depth { i += 1 }
        while i < run.upperBound {
          guard let c = trie.child(from: i, to: run.upperBound, depth: depth) else {
            i += 1
            continue
          }
          var node = unlisted
          if c.end - i >= threshold && children.count < maxChildren {
            node = UInt32(queue.count)
            queue.append((i..<c.end, depth + c.length))
          }
          let ends = trie.key(i).count == depth + c.length
          children.append((i, c.end, c.scalar, c.length, ends, node))
          i = c.end
        }
      }
      firsts.append(UInt32(children.count))
      // Nodes queued but not reached are walked as unlisted ones.
      for i in children.indices where children[i].node != unlisted && Int(children[i].node) >= firsts.count - 1 {
        children[i].node = unlisted
      }
    }
    let nodes = max(firsts.count - 1, 0)
    var bytes = [UInt8](repeating: 0, count: byteCount(nodes: nodes, children: children.count))
    bytes.withUnsafeMutableBytes { out in
      out.storeBytes(of: UInt64(nodes).littleEndian, toByteOffset: 0, as: UInt64.self)
      out.storeBytes(of: UInt64(children.count).littleEndian, toByteOffset: 8, as: UInt64.self)
      for (i, f) in firsts.enumerated() {
        out.storeBytes(of: f.littleEndian, toByteOffset: headerSize + i * 4, as: UInt32.self)
      }
      let at = headerSize + (((nodes + 1) * 4 + 7) & ~7)
      for (i, c) in children.enumerated() {
        let o = at + i * childSize
        out.storeBytes(of: UInt32(c.start).littleEndian, toByteOffset: o, as: UInt32.self)
        out.storeBytes(of: UInt32(c.end).littleEndian, toByteOffset: o + 4, as: UInt32.self)
        let bits = c.scalar | (c.ends ? 0x80_0000 : 0) | UInt32(c.length) << 24
        out.storeBytes(of: bits.littleEndian, toByteOffset: o + 8, as: UInt32.self)
        out.storeBytes(of: c.node.littleEndian, toByteOffset: o + 12, as: UInt32.self)
      }
    }
    return bytes
  }
}
