import Glibc
import SearchdWire

/// Compiles entries into an index image (IndexFormat), in memory: records appended to one
/// buffer grown by realloc (which remaps large blocks rather than copying them, so the
/// peak is the image, not twice it), and the bucket table kept beside it in pages of its
/// own, doubled when three quarters full, and moved after the records at the end a
/// megabyte at a time, each given back as it goes (so it is never held twice). A key added twice keeps its last value, as Python's json.loads
/// does; the earlier record stays as dead bytes (duplicates are rare).
public struct IndexBuilder: ~Copyable {
  private var base: UnsafeMutableRawPointer
  private var capacity: Int
  private var used = IndexFormat.headerSize
  private var buckets: UnsafeMutableBufferPointer<UInt64>
  public private(set) var count = 0

  public init() {
    capacity = 1 << 16
    base = malloc(capacity)!
    buckets = Self.allocateBuckets(16)
  }

  deinit {
    free(base)
    if buckets.count > 0 { munmap(buckets.baseAddress, buckets.count * 8) }
  }

  /// Zeroed pages of their own (mmap's are), so parts can be unmapped.
  private static func allocateBuckets(_ count: Int) -> UnsafeMutableBufferPointer<UInt64> {
    let at = mmap(nil, count * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    precondition(at != MAP_FAILED, "out of memory for an index's table of \(count) buckets")
    return UnsafeMutableBufferPointer(start: at!.assumingMemoryBound(to: UInt64.self), count: count)
  }

  /// Adds `key` with the UTF-8 `value` (both already validated); the value is escaped
  /// once, here, as its hit reply carries it.
  public mutating func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
    reserve(IndexFormat.recordHead + key.count + JSONWriter.maxStringLength(value.count))
    let record = used
    var at = base + used + IndexFormat.recordHead
    if key.count > 0 { at.copyMemory(from: key.baseAddress!, byteCount: key.count) }
    at += key.count
    let textLength = JSONWriter.writeString(value, to: at, quoted: false)
    at += textLength
    (base + record).storeBytes(of: UInt32(key.count).littleEndian, as: UInt32.self)
    (base + record).storeBytes(of: UInt32(textLength).littleEndian, toByteOffset: 4, as: UInt32.self)
    used = at - base
    place(record: UInt64(record), key: key)
  }

  /// Points the key's bucket at `record`: a new bucket, or the one of an earlier record
  /// of the same key.
  private mutating func place(record: UInt64, key: UnsafeRawBufferPointer) {
    if (count + 1) * 4 > buckets.count * 3 { grow() }
    let h = IndexFormat.hash(key)
    let tag = h >> IndexFormat.offsetBits
    let mask = UInt64(buckets.count - 1)
    var s = h & mask
    while buckets[Int(s)] != 0 {
      let bucket = buckets[Int(s)]
      if bucket >> IndexFormat.offsetBits == tag, keyOf(bucket & IndexFormat.offsetMask).elementsEqual(key) {
        buckets[Int(s)] = tag << IndexFormat.offsetBits | record
        return
      }
      s = (s + 1) & mask
    }
    buckets[Int(s)] = tag << IndexFormat.offsetBits | record
    count += 1
  }

  private func keyOf(_ record: UInt64) -> UnsafeRawBufferPointer {
    let at = base + Int(record)
    return UnsafeRawBufferPointer(start: at + IndexFormat.recordHead, count: Int(at.loadUnaligned(as: UInt32.self)))
  }

  /// Sizes the table for `entries` (an estimate) at once: each doubling on the way would
  /// rehash every key so far, reading it back from the records at random.
  public mutating func expect(_ entries: Int) {
    var size = buckets.count
    while entries * 4 > size * 3 { size *= 2 }
    if size > buckets.count { grow(to: size) }
  }

  private mutating func grow(to size: Int? = nil) {
    let old = buckets
    buckets = Self.allocateBuckets(size ?? old.count * 2)
    let mask = UInt64(buckets.count - 1)
    for bucket in old where bucket != 0 {
      var s = IndexFormat.hash(keyOf(bucket & IndexFormat.offsetMask)) & mask
      while buckets[Int(s)] != 0 { s = (s + 1) & mask }
      buckets[Int(s)] = bucket
    }
    munmap(old.baseAddress, old.count * 8)
  }

  private mutating func reserve(_ bytes: Int) {
    guard used + bytes > capacity else { return }
    while used + bytes > capacity { capacity *= 2 }
    base = realloc(base, capacity)!
  }

  /// The finished image: records, the bucket table after them, the header with its sums.
  public consuming func finish() -> IndexImage {
    let recordsEnd = (used + 7) & ~7
    let bucketCount = buckets.count
    let length = recordsEnd + bucketCount * 8
    base = realloc(base, length)!
    memset(base + used, 0, recordsEnd - used)
    let step = 1 << 17  // buckets a megabyte
    var moved = 0
    while moved < buckets.count {
      let n = min(step, buckets.count - moved)
      (base + recordsEnd + moved * 8).copyMemory(from: buckets.baseAddress! + moved, byteCount: n * 8)
      munmap(buckets.baseAddress! + moved, n * 8)
      moved += n
    }
    buckets = UnsafeMutableBufferPointer(start: nil, count: 0)
    let header = base
    header.copyMemory(from: IndexFormat.magic, byteCount: IndexFormat.magic.count)
    header.storeBytes(of: IndexFormat.version.littleEndian, toByteOffset: 8, as: UInt32.self)
    header.storeBytes(of: UInt32(IndexFormat.headerSize).littleEndian, toByteOffset: 12, as: UInt32.self)
    header.storeBytes(of: UInt64(count).littleEndian, toByteOffset: 16, as: UInt64.self)
    header.storeBytes(of: UInt64(recordsEnd).littleEndian, toByteOffset: 24, as: UInt64.self)
    header.storeBytes(of: UInt64(bucketCount).littleEndian, toByteOffset: 32, as: UInt64.self)
    header.storeBytes(of: UInt64(length).littleEndian, toByteOffset: 40, as: UInt64.self)
    let body = UnsafeRawBufferPointer(start: base + IndexFormat.headerSize, count: length - IndexFormat.headerSize)
    header.storeBytes(of: IndexFormat.checksum(body).littleEndian, toByteOffset: 48, as: UInt64.self)
    let head = UnsafeRawBufferPointer(start: base, count: IndexFormat.headerSumOffset)
    header.storeBytes(
      of: IndexFormat.checksum(head).littleEndian, toByteOffset: IndexFormat.headerSumOffset, as: UInt64.self)
    let image = IndexImage(allocated: base, count: length)
    // The image owns the buffer now; an empty one stands in for deinit to free.
    base = malloc(1)!
    return image
  }
}
