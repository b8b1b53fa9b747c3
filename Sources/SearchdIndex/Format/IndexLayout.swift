import Glibc

/// A checked view of an index image: the header's promises hold (sizes add up, the table
/// is a power of two inside the file), so a lookup needs only the per-record bounds check
/// it does anyway. Nothing here trusts a byte of the file further than it has checked it.
@usableFromInline struct IndexLayout {
  @usableFromInline let base: UnsafeRawPointer
  let length: Int
  let entryCount: Int
  /// Records lie in headerSize..<recordsEnd.
  @usableFromInline let recordsEnd: UInt64
  @usableFromInline let buckets: UnsafePointer<UInt64>
  @usableFromInline let bucketMask: UInt64
  let bodySum: UInt64
  /// The keys in order, for suggestions; nil in a version 1 file.
  @usableFromInline let suggest: SuggestSection?
  /// The trie's biggest nodes, for suggestions; nil before version 3.
  let nodes: NodeSection?
  let version: UInt32

  /// Checks the header; the body's checksum too if `verifyBody` (a pass over every byte).
  init(validating bytes: UnsafeRawBufferPointer, verifyBody: Bool) throws(IndexFormatError) {
    guard IndexFormat.hasMagic(bytes) else { throw .notAnIndex }
    guard bytes.count >= IndexFormat.headerSize else {
      throw .truncated(expected: UInt64(IndexFormat.headerSize), actual: bytes.count)
    }
    func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    let version = u32(8)
    guard IndexFormat.readableVersions.contains(version) else { throw .unsupportedVersion(version) }
    let head = UnsafeRawBufferPointer(rebasing: bytes[0..<IndexFormat.headerSumOffset])
    guard IndexFormat.checksum(head) == u64(IndexFormat.headerSumOffset) else {
      throw .corruptHeader("header checksum mismatch")
    }
    guard u32(12) == UInt32(IndexFormat.headerSize) else { throw .corruptHeader("header size \(u32(12))") }
    let fileLength = u64(40)
    guard fileLength == UInt64(bytes.count) else {
      if fileLength > UInt64(bytes.count) { throw .truncated(expected: fileLength, actual: bytes.count) }
      throw .corruptHeader("\(UInt64(bytes.count) - fileLength) bytes after the end the header gives")
    }
    let entries = u64(16)
    let recordsEnd = u64(24)
    let bucketCount = u64(32)
    let refused = IndexFormatError.corruptHeader(
      "entries \(entries), buckets \(bucketCount), records end \(recordsEnd)")
    guard bucketCount > 0, bucketCount & (bucketCount - 1) == 0, bucketCount <= fileLength / 8,
      entries < bucketCount, recordsEnd >= UInt64(IndexFormat.headerSize), recordsEnd % 8 == 0,
      recordsEnd <= IndexFormat.offsetMask
    else { throw refused }
    // The sections after the table: their sizes follow from the entries, but the nodes'.
    let suggestAt = recordsEnd + bucketCount * 8
    let nodesAt = suggestAt + UInt64(version >= 2 ? SuggestSection.byteCount(entries: Int(entries)) : 0)
    guard version >= 3 ? nodesAt < fileLength : nodesAt == fileLength else { throw refused }
    let bodySum = u64(48)
    if verifyBody {
      let body = UnsafeRawBufferPointer(rebasing: bytes[IndexFormat.headerSize...])
      guard IndexFormat.checksum(body) == bodySum else { throw .checksumMismatch }
    }
    base = bytes.baseAddress!
    length = bytes.count
    entryCount = Int(entries)
    self.recordsEnd = recordsEnd
    // 8-aligned: recordsEnd is, and mmap and malloc give aligned bases.
    buckets = (base + Int(recordsEnd)).assumingMemoryBound(to: UInt64.self)
    bucketMask = bucketCount - 1
    self.bodySum = bodySum
    self.version = version
    suggest = version >= 2 ? SuggestSection(at: base + Int(suggestAt), entries: Int(entries)) : nil
    nodes =
      version >= 3
      ? try NodeSection(
        validating: UnsafeRawBufferPointer(rebasing: bytes[Int(nodesAt)...]), entries: Int(entries)) : nil
  }

  /// Whether the body's bytes still sum to the header's checksum.
  func bodyIsIntact() -> Bool {
    IndexFormat.checksum(
      UnsafeRawBufferPointer(start: base + IndexFormat.headerSize, count: length - IndexFormat.headerSize))
      == bodySum
  }

  /// A record's key and text, if the record at `offset` lies inside the records.
  @inlinable @inline(__always) func record(at offset: UInt64) -> (
    key: UnsafeRawBufferPointer, text: UnsafeRawBufferPointer
  )? { Self.record(at: offset, base: base, recordsEnd: recordsEnd) }

  /// The record at `offset` of an image at `base` whose records end at `recordsEnd`, if it
  /// lies inside them (for the builder too, before the image has a header).
  @inlinable @inline(__always) static func record(at offset: UInt64, base: UnsafeRawPointer, recordsEnd: UInt64) -> (
    key: UnsafeRawBufferPointer, text: UnsafeRawBufferPointer
  )? {
    // Subtracted, not added: the suggest section's offsets are any u64 a lying file holds.
    guard offset >= UInt64(IndexFormat.headerSize), offset <= recordsEnd - UInt64(IndexFormat.recordHead) else {
      return nil
    }
    let at = base + Int(offset)
    let keyLength = UInt64(UInt32(littleEndian: at.loadUnaligned(as: UInt32.self)))
    let textLength = UInt64(UInt32(littleEndian: at.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
    guard offset + UInt64(IndexFormat.recordHead) + keyLength + textLength <= recordsEnd else { return nil }
    let key = UnsafeRawBufferPointer(start: at + IndexFormat.recordHead, count: Int(keyLength))
    return (key, UnsafeRawBufferPointer(start: key.baseAddress! + key.count, count: Int(textLength)))
  }

  /// The text for `query`'s key, nil if absent. At most one pass over the table, so a
  /// corrupt table without an empty bucket cannot loop; a bucket pointing outside the
  /// records is passed over.
  @inlinable @inline(__always) func text(forQuery query: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
    let h = IndexFormat.hash(query)
    let tag = h >> IndexFormat.offsetBits
    var s = h & bucketMask
    var probes: UInt64 = 0
    while probes <= bucketMask {
      let bucket = UInt64(littleEndian: buckets[Int(s)])
      if bucket == 0 { return nil }
      if bucket >> IndexFormat.offsetBits == tag, let r = record(at: bucket & IndexFormat.offsetMask),
        r.key.count == query.count, r.key.count == 0 || memcmp(r.key.baseAddress!, query.baseAddress!, r.key.count) == 0
      {
        return r.text
      }
      s = (s + 1) & bucketMask
      probes += 1
    }
    return nil
  }

  /// Every live entry, in table order (for tools and tests; a corrupt record is skipped).
  func forEachEntry(_ body: (_ key: UnsafeRawBufferPointer, _ text: UnsafeRawBufferPointer) -> Void) {
    for s in 0...Int(bucketMask) {
      let bucket = UInt64(littleEndian: buckets[s])
      if bucket != 0, let r = record(at: bucket & IndexFormat.offsetMask) { body(r.key, r.text) }
    }
  }
}
