/// The compiled index file, and the in-memory image a JSON index is compiled into: one
/// layout, so a lookup has one path whichever way the index came. docs/INDEX-FORMAT.md
/// describes it for other readers; this file is its definition.
///
///     0   magic        8 bytes  89 53 44 58 0D 0A 1A 0A ("\x89SDX\r\n\x1A\n", as PNG's: a
///                               7-bit or line-ending-mangling copy breaks it visibly)
///     8   version      u32      3 (1: no suggest section, 2: no node section; both still read)
///     12  header size  u32      64
///     16  entries      u64      live keys
///     24  records end  u64      where the bucket table starts (8-aligned)
///     32  buckets      u64      a power of two, more than the entries
///     40  file length  u64      the whole file: a shorter file was truncated
///     48  body sum     u64      `IndexFormat.checksum` of bytes 64..<file length
///     56  header sum   u64      `IndexFormat.checksum` of bytes 0..<56
///     64  records:     u32 key length, u32 text length, the key's bytes, the text: the
///                      value escaped as the hit reply's JSON string holds it, once
///     …   buckets:     u64 each, 0 = empty, else the hash's top 24 bits above the
///                      record's offset (40 bits); linear probing from hash & (buckets-1)
///     …   suggest:     version 2 on: the keys in order and their lengths (SuggestSection)
///     …   nodes:       version 3 on: the trie's biggest nodes' children (NodeSection)
///
/// Integers are little-endian. What every hit reply shares is not stored: the frame's
/// header, which differs between entries only in its content-length digits, and the
/// content's `{"result": "` and `"}`; they are written around the text at send time (saves
/// ~114 bytes an entry, over 1 GB at ten million keys).
public enum IndexFormat {
  public static let magic: [UInt8] = [0x89, 0x53, 0x44, 0x58, 0x0D, 0x0A, 0x1A, 0x0A]
  /// What `searchd-index build` writes.
  public static let version: UInt32 = 3
  /// What searchd reads: version 1 files lack the suggest section, and `suggest` says so;
  /// version 2 files lack the node section, and a smaller one is made at load.
  public static let readableVersions: ClosedRange<UInt32> = 1...3
  public static let headerSize = 64
  static let headerSumOffset = 56
  @usableFromInline static let recordHead = 8
  @usableFromInline static let offsetBits: UInt64 = 40
  @usableFromInline static let offsetMask: UInt64 = (1 << 40) - 1

  /// Whether `bytes` start like a compiled index (the rest may still be refused).
  public static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= magic.count && magic.indices.allSatisfy { bytes[$0] == magic[$0] }
  }

  /// Eight bytes at a time, multiply and fold: an eighth of the dependent multiplies of
  /// byte-wise FNV-1a, which perf showed as most of a lookup. Part of the format: files
  /// place keys by it. The keys are the index's; a query only probes, so a poor hash
  /// could cost time but never grow the table.
  @inlinable @inline(__always) public static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
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

  /// The integrity sum of header and body: four independent multiply-fold lanes over
  /// 8-byte words (several GB/s), against truncation and bit rot, not against an
  /// adversary: whoever can write the index file decides the answers anyway.
  public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let k: UInt64 = 0x9E37_79B9_7F4A_7C15
    var lanes: (UInt64, UInt64, UInt64, UInt64) = (1, 2, 3, 4)
    var i = 0
    while i + 32 <= bytes.count {
      lanes.0 = fold(lanes.0, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self), k)
      lanes.1 = fold(lanes.1, bytes.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self), k)
      lanes.2 = fold(lanes.2, bytes.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self), k)
      lanes.3 = fold(lanes.3, bytes.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self), k)
      i += 32
    }
    var h = UInt64(bytes.count) &* k
    h = fold(h, lanes.0, k)
    h = fold(h, lanes.1, k)
    h = fold(h, lanes.2, k)
    h = fold(h, lanes.3, k)
    while i < bytes.count {
      h = fold(h, UInt64(bytes[i]), k)
      i += 1
    }
    return h ^ h >> 32
  }

  @inline(__always) private static func fold(_ h: UInt64, _ word: UInt64, _ k: UInt64) -> UInt64 {
    let m = (h ^ word) &* k
    return m ^ m >> 29
  }
}

/// Why bytes are not a usable index: each a sentence for the operator's log.
public enum IndexFormatError: Error, Equatable, Sendable, CustomStringConvertible {
  case notAnIndex
  case unsupportedVersion(UInt32)
  case truncated(expected: UInt64, actual: Int)
  case corruptHeader(String)
  case checksumMismatch

  public var description: String {
    switch self {
    case .notAnIndex: return "not a searchd index (no magic number)"
    case .unsupportedVersion(let v):
      return
        "index format version \(v); this searchd reads versions \(IndexFormat.readableVersions.lowerBound) to \(IndexFormat.readableVersions.upperBound) (rebuild it with this searchd-index)"
    case .truncated(let expected, let actual):
      return "truncated: \(actual) bytes of \(expected) (an interrupted copy?)"
    case .corruptHeader(let what): return "corrupt header: \(what)"
    case .checksumMismatch: return "checksum mismatch: the file is corrupt"
    }
  }
}
