import Glibc
import SearchdWire

/// An index in its searchable form, with its hit replies encoded once when it is built:
/// a hit is answered from these bytes, with no encoding per request. Lookups take the
/// query's bytes where they lie (in the read buffer), so a hit allocates nothing and
/// retains nothing: an open-addressing table over keys and replies laid end to end in two
/// buffers, keys compared as bytes with memcmp. Immutable, so every loop reads it without
/// locks; a reload builds a new one and swaps it whole.
public final class LookupTable: @unchecked Sendable {
  // @unchecked: the buffers are written once, in init, and only read after.
  public let index: SearchIndex
  /// Keys, end to end; entry i is keyBytes[keyEnds[i]..<keyEnds[i+1]].
  @usableFromInline let keyBytes: UnsafeMutableRawBufferPointer
  @usableFromInline let keyEnds: UnsafeMutableBufferPointer<Int>
  /// Encoded hit replies, end to end, likewise.
  @usableFromInline let replyBytes: UnsafeMutableRawBufferPointer
  @usableFromInline let replyEnds: UnsafeMutableBufferPointer<Int>
  /// Entry number + 1 per slot, 0 for empty; a power of two at least twice the entries.
  @usableFromInline let slots: UnsafeMutableBufferPointer<Int32>
  /// Monotonic time it took to build, for stats.
  public let buildNanoseconds: UInt64

  public init(index: SearchIndex, buildNanoseconds: UInt64 = 0) {
    self.index = index
    self.buildNanoseconds = buildNanoseconds
    (keyBytes, keyEnds) = Self.layOut(index.count) { out, i in out.append(contentsOf: index.entries[i].key) }
    (replyBytes, replyEnds) = Self.layOut(index.count) { out, i in
      out.append(contentsOf: Reply.result(index.entries[i].value))
    }
    var capacity = 16
    while capacity < index.count * 2 { capacity *= 2 }
    slots = .allocate(capacity: capacity)
    slots.initialize(repeating: 0)
    for i in 0..<index.count {
      var s = Self.hash(key(i)) & UInt64(capacity - 1)
      while slots[Int(s)] != 0 { s = (s + 1) & UInt64(capacity - 1) }
      slots[Int(s)] = Int32(i + 1)
    }
  }

  deinit {
    free(keyBytes.baseAddress)
    keyEnds.deallocate()
    free(replyBytes.baseAddress)
    replyEnds.deallocate()
    slots.deallocate()
  }

  /// `count` parts, each made by `part` into a scratch array, end to end in one buffer,
  /// with the offsets where each starts and the last ends. The buffer grows by realloc,
  /// which moves large blocks by remapping pages (no copy, no second buffer at the peak).
  private static func layOut(_ count: Int, _ part: (inout [UInt8], Int) -> Void)
    -> (UnsafeMutableRawBufferPointer, UnsafeMutableBufferPointer<Int>)
  {
    let ends = UnsafeMutableBufferPointer<Int>.allocate(capacity: count + 1)
    var capacity = 4096
    var base = malloc(capacity)!
    var used = 0
    var scratch: [UInt8] = []
    ends[0] = 0
    for i in 0..<count {
      scratch.removeAll(keepingCapacity: true)
      part(&scratch, i)
      if used + scratch.count > capacity {
        while used + scratch.count > capacity { capacity *= 2 }
        base = realloc(base, capacity)!
      }
      scratch.withUnsafeBytes { (base + used).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
      used += scratch.count
      ends[i + 1] = used
    }
    return (UnsafeMutableRawBufferPointer(start: realloc(base, max(used, 1))!, count: used), ends)
  }

  @inlinable func key(_ entry: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: keyBytes[keyEnds[entry]..<keyEnds[entry + 1]])
  }

  /// Eight bytes at a time, multiply and fold: an eighth of the dependent multiplies of
  /// byte-wise FNV-1a, which perf showed as most of a lookup. The keys are the index's;
  /// a query only probes, so a poor hash could cost time but never grow the table.
  @inlinable @inline(__always) static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let k: UInt64 = 0x9E37_79B9_7F4A_7C15
    var h = UInt64(bytes.count) &* k
    var i = 0
    while i + 8 <= bytes.count {
      h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* k
      h ^= h >> 29
      i += 8
    }
    if i < bytes.count {
      var tail: UInt64 = 0
      for j in i..<bytes.count { tail = tail << 8 | UInt64(bytes[j]) }
      h = (h ^ tail) &* k
      h ^= h >> 29
    }
    return h ^ h >> 32
  }

  /// The entry a query hits, or nil for a miss.
  @inlinable @inline(__always) public func entry(forQuery query: UnsafeRawBufferPointer) -> Int? {
    let mask = UInt64(slots.count - 1)
    var s = Self.hash(query) & mask
    while true {
      let entry = Int(slots[Int(s)])
      if entry == 0 { return nil }
      let k = key(entry - 1)
      if k.count == query.count && (k.count == 0 || memcmp(k.baseAddress!, query.baseAddress!, k.count) == 0) {
        return entry - 1
      }
      s = (s + 1) & mask
    }
  }

  /// The encoded reply of an entry `entry(forQuery:)` found: valid while the table lives.
  @inlinable public func reply(_ entry: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: replyBytes[replyEnds[entry]..<replyEnds[entry + 1]])
  }

  /// The encoded reply for a hit, or nil for a miss (a copy, for tests and tools).
  public func reply(forQuery query: [UInt8]) -> [UInt8]? {
    query.withUnsafeBytes { entry(forQuery: $0) }.map { Array(reply($0)) }
  }

  /// The value of `key`, compared as bytes; nil if absent.
  public func value(forKey key: String) -> String? {
    Array(key.utf8).withUnsafeBytes { entry(forQuery: $0) }.map { index.entries[$0].value }
  }
}
