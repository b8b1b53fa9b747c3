import Glibc
import SearchdSystem
import SearchdWire

/// Compiles entries into an index image (IndexFormat): records appended to one buffer, in
/// memory (grown by realloc, which remaps large blocks rather than copying them, so the
/// peak is the image, not twice it) or in the mapping of the file being written (so the
/// bytes go straight to the page cache); the bucket table kept beside it in pages of its
/// own, doubled when three quarters full, and moved after the records at the end a
/// megabyte at a time, each given back as it goes (so it is never held twice). A key added
/// twice keeps its last value, as Python's json.loads does; the earlier record stays as
/// dead bytes (duplicates are rare).
public struct IndexBuilder: ~Copyable {
  private var base: UnsafeMutableRawPointer
  private var capacity: Int
  private var used = IndexFormat.headerSize
  private var buckets: UnsafeMutableBufferPointer<UInt64>
  private let file: MappedFileWriter?
  public private(set) var count = 0
  /// Records written, a key added twice counting twice.
  private var records = 0

  /// Builds in memory, for `finish`.
  public init() {
    capacity = 1 << 16
    base = malloc(capacity)!
    buckets = Self.allocateBuckets(16)
    file = nil
  }

  /// Builds into a temporary file beside `path`, renamed over it by `commit`.
  public init(writingTo path: String) throws(SystemError) {
    let file = try MappedFileWriter(path: path, capacity: 1 << 20)
    self.file = file
    capacity = file.capacity
    base = file.base
    buckets = Self.allocateBuckets(16)
  }

  deinit {
    if file == nil { free(base) }
    if buckets.count > 0 { munmap(buckets.baseAddress, buckets.count * 8) }
  }

  /// Zeroed pages of their own (mmap's are), so parts can be unmapped; huge pages where
  /// the kernel has them, as every insert lands at random in a table of up to gigabytes.
  private static func allocateBuckets(_ count: Int) -> UnsafeMutableBufferPointer<UInt64> {
    let at = mmap(nil, count * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    precondition(at != MAP_FAILED, "out of memory for an index's table of \(count) buckets")
    madvise(at, count * 8, MADV_HUGEPAGE)
    return UnsafeMutableBufferPointer(start: at!.assumingMemoryBound(to: UInt64.self), count: count)
  }

  /// Adds `key` with the UTF-8 `value` (both already validated); the value is escaped
  /// once, here, as its hit reply carries it.
  public mutating func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(SystemError) {
    try reserve(IndexFormat.recordHead + key.count + JSONWriter.maxStringLength(value.count))
    let record = used
    var at = base + used + IndexFormat.recordHead
    if key.count > 0 { at.copyMemory(from: key.baseAddress!, byteCount: key.count) }
    at += key.count
    let textLength = JSONWriter.writeString(value, to: at, quoted: false)
    at += textLength
    (base + record).storeBytes(of: UInt32(key.count).littleEndian, as: UInt32.self)
    (base + record).storeBytes(of: UInt32(textLength).littleEndian, toByteOffset: 4, as: UInt32.self)
    used = at - base
    records += 1
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

  private mutating func reserve(_ bytes: Int) throws(SystemError) {
    guard used + bytes > capacity else { return }
    while used + bytes > capacity { capacity *= 2 }
    try resize(capacity)
  }

  private mutating func resize(_ size: Int) throws(SystemError) {
    if let file {
      try file.grow(to: size)
      base = file.base
    } else {
      base = realloc(base, size)!
    }
    capacity = max(capacity, size)
  }

  /// Lays the bucket table after the records and writes the header: the image's length.
  private mutating func seal() throws(SystemError) -> Int {
    let recordsEnd = (used + 7) & ~7
    let bucketCount = buckets.count
    let sorted = sortedRecords()
    let suggestAt = recordsEnd + bucketCount * 8
    let nodesAt = suggestAt + SuggestSection.byteCount(entries: sorted.count)
    try fit(nodesAt)
    memset(base + used, 0, recordsEnd - used)
    let step = 1 << 17  // buckets a megabyte
    var moved = 0
    while moved < bucketCount {
      let n = min(step, bucketCount - moved)
      (base + recordsEnd + moved * 8).copyMemory(from: buckets.baseAddress! + moved, byteCount: n * 8)
      munmap(buckets.baseAddress! + moved, n * 8)
      moved += n
    }
    buckets = UnsafeMutableBufferPointer(start: nil, count: 0)
    SuggestSection.write(sorted: sorted, to: base + suggestAt) { SuggestRequest.scalarCount(keyOf($0)) }
    // The node section's size is known once listed, from the keys as the section sorts them.
    let keys = KeyTrie(
      section: SuggestSection(at: base + suggestAt, entries: sorted.count), base: base, recordsEnd: UInt64(recordsEnd))
    let nodes = NodeSection.encode(keys, NodeSection.listedWhenBuilt(entries: sorted.count))
    let length = nodesAt + nodes.count
    try fit(length)
    (base + nodesAt).copyMemory(from: nodes, byteCount: nodes.count)
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
    return length
  }

  /// Makes the image exactly `length` bytes.
  private mutating func fit(_ length: Int) throws(SystemError) {
    if file == nil {
      base = realloc(base, length)!
      capacity = length
    } else {
      try resize(length)
    }
  }

  /// The live records' offsets, their keys in byte order. Taken in the order they were
  /// added (a walk over the records when no key came twice, else the table's offsets
  /// sorted), so input already in key order (a dump, a word list) sorts in one pass of
  /// the merge sort; compared by their first sixteen bytes as two numbers first, so most
  /// comparisons read no record (at ten million keys, eight bytes left every comparison
  /// to a memcmp of `key:0000…`, and the build at a third of its speed).
  private func sortedRecords() -> [UInt64] {
    // Each record's key's first 16 bytes beside it, made straight from the records: a list
    // of offsets beside this one was 8 bytes a key more at the builder's peak.
    var keys: [(high: UInt64, low: UInt64, record: UInt64)] = []
    keys.reserveCapacity(count)
    func add(_ record: UInt64) {
      let key = keyOf(record)
      var high: UInt64 = 0
      var low: UInt64 = 0
      for i in 0..<8 { high = high << 8 | (i < key.count ? UInt64(key[i]) : 0) }
      for i in 8..<16 { low = low << 8 | (i < key.count ? UInt64(key[i]) : 0) }
      keys.append((high, low, record))
    }
    if records == count {
      var at = IndexFormat.headerSize
      while at < used {
        add(UInt64(at))
        let keyLength = Int((base + at).loadUnaligned(as: UInt32.self))
        let textLength = Int((base + at).loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        at += IndexFormat.recordHead + keyLength + textLength
      }
    } else {
      for bucket in buckets where bucket != 0 { add(bucket & IndexFormat.offsetMask) }
    }
    keys.sort { a, b in
      if a.high != b.high { return a.high < b.high }
      if a.low != b.low { return a.low < b.low }
      let x = keyOf(a.record)
      let y = keyOf(b.record)
      let common = min(x.count, y.count)
      let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
      return order != 0 ? order < 0 : x.count < y.count
    }
    return keys.map(\.record)
  }

  /// The finished image, in memory (a builder made by `init()`).
  public consuming func finish() -> IndexImage {
    precondition(file == nil, "finish() is for a builder in memory; a file's is commit()")
    let length = try! seal()  // in memory, sealing cannot fail
    let image = IndexImage(allocated: base, count: length)
    // The image owns the buffer now; an empty one stands in for deinit to free.
    base = malloc(1)!
    return image
  }

  /// Seals the file and renames it into place (a builder made by `init(writingTo:)`);
  /// returns its length.
  public consuming func commit() throws(SystemError) -> Int {
    guard let file else { preconditionFailure("commit() is for a builder writing a file") }
    let length = try seal()
    try file.commit(length: length)
    return length
  }
}
