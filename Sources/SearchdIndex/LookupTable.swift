import Glibc
import SearchdWire

/// An index in its searchable form, with its hit replies encoded once when it is built:
/// a hit is answered from these bytes, with no encoding per request. Lookups take the
/// query's bytes where they lie (in the read buffer), so a hit allocates nothing: an
/// open-addressing table, keys compared as bytes with memcmp. Immutable, so every loop
/// reads it without locks; a reload builds a new one and swaps it whole.
public final class LookupTable: Sendable {
  public let index: SearchIndex
  private let keys: [[UInt8]]
  private let replies: [[UInt8]]
  /// Entry number + 1 per slot, 0 for empty; a power of two at least twice the entries.
  private let slots: [Int32]
  /// Monotonic time it took to build, for stats.
  public let buildNanoseconds: UInt64

  public init(index: SearchIndex, buildNanoseconds: UInt64 = 0) {
    self.index = index
    var keys: [[UInt8]] = []
    var replies: [[UInt8]] = []
    keys.reserveCapacity(index.count)
    replies.reserveCapacity(index.count)
    for e in index.entries {
      keys.append(e.key)
      replies.append(Reply.result(e.value))
    }
    var capacity = 16
    while capacity < keys.count * 2 { capacity *= 2 }
    var slots = [Int32](repeating: 0, count: capacity)
    for (i, key) in keys.enumerated() {
      var s = key.withUnsafeBytes { Self.hash($0) } & UInt64(capacity - 1)
      while slots[Int(s)] != 0 { s = (s + 1) & UInt64(capacity - 1) }
      slots[Int(s)] = Int32(i + 1)
    }
    self.keys = keys
    self.replies = replies
    self.slots = slots
    self.buildNanoseconds = buildNanoseconds
  }

  /// Eight bytes at a time, multiply and fold: an eighth of the dependent multiplies of
  /// byte-wise FNV-1a, which perf showed as most of a lookup. The keys are the index's;
  /// a query only probes, so a poor hash could cost time but never grow the table.
  private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
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
  public func entry(forQuery query: UnsafeRawBufferPointer) -> Int? {
    let mask = UInt64(slots.count - 1)
    var s = Self.hash(query) & mask
    while true {
      let entry = Int(slots[Int(s)])
      if entry == 0 { return nil }
      let matches = keys[entry - 1].withUnsafeBytes { key in
        key.count == query.count && (key.count == 0 || memcmp(key.baseAddress!, query.baseAddress!, key.count) == 0)
      }
      if matches { return entry - 1 }
      s = (s + 1) & mask
    }
  }

  /// The encoded reply of an entry `entry(forQuery:)` found.
  @inline(__always) public func reply(_ entry: Int) -> [UInt8] { replies[entry] }

  /// The encoded reply for a hit, or nil for a miss.
  public func reply(forQuery query: [UInt8]) -> [UInt8]? { query.withUnsafeBytes { entry(forQuery: $0) }.map(reply) }

  /// The value of `key`, compared as bytes; nil if absent.
  public func value(forKey key: String) -> String? {
    Array(key.utf8).withUnsafeBytes { entry(forQuery: $0) }.map { index.entries[$0].value }
  }
}
