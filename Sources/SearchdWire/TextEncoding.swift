/// The text encodings a JSON request's content may declare, as Python's codec
/// names spell them, decoded to UTF-8 strictly (bad input is an error, not U+FFFD).
public enum TextEncoding: Sendable, Equatable {
  case utf8, utf8WithSignature
  case utf16(bigEndian: Bool?), utf32(bigEndian: Bool?)
  case ascii, latin1

  /// The encoding a header names, as Python normalises codec names (ASCII case, and
  /// `-`, `_` and space alike); nil for one searchd does not read.
  public init?(name: UnsafeRawBufferPointer) {
    guard name.count <= 16 else { return nil }
    let found = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { n -> TextEncoding? in
      for (i, b) in name.enumerated() {
        n[i] = b == UInt8(ascii: "_") || b == UInt8(ascii: " ") ? UInt8(ascii: "-") : (b >= 65 && b <= 90 ? b + 32 : b)
      }
      let normal = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(n)[..<name.count])
      return Self.names.first { normal.equals($0.0) }?.1
    }
    guard let found else { return nil }
    self = found
  }

  private static let names: [(StaticString, TextEncoding)] = [
    ("utf-8", .utf8), ("utf8", .utf8), ("u8", .utf8), ("utf", .utf8), ("cp65001", .utf8),
    ("utf-8-sig", .utf8WithSignature), ("utf8-sig", .utf8WithSignature),
    ("utf-16", .utf16(bigEndian: nil)), ("utf16", .utf16(bigEndian: nil)), ("u16", .utf16(bigEndian: nil)),
    ("utf-16-le", .utf16(bigEndian: false)), ("utf-16le", .utf16(bigEndian: false)),
    ("utf16le", .utf16(bigEndian: false)), ("utf-16-be", .utf16(bigEndian: true)),
    ("utf-16be", .utf16(bigEndian: true)), ("utf16be", .utf16(bigEndian: true)),
    ("utf-32", .utf32(bigEndian: nil)), ("utf32", .utf32(bigEndian: nil)), ("u32", .utf32(bigEndian: nil)),
    ("utf-32-le", .utf32(bigEndian: false)), ("utf-32le", .utf32(bigEndian: false)),
    ("utf32le", .utf32(bigEndian: false)), ("utf-32-be", .utf32(bigEndian: true)),
    ("utf-32be", .utf32(bigEndian: true)), ("utf32be", .utf32(bigEndian: true)),
    ("ascii", .ascii), ("us-ascii", .ascii), ("646", .ascii),
    ("latin-1", .latin1), ("latin1", .latin1), ("iso-8859-1", .latin1), ("iso8859-1", .latin1), ("l1", .latin1),
    ("8859", .latin1), ("cp819", .latin1),
  ]

  /// The content as UTF-8: the bytes themselves where they already are (UTF-8 checked,
  /// ASCII, a UTF-8 signature skipped), else transcoded into `out` (reused: nothing
  /// allocated once it has grown); nil if they are not valid in this encoding. Valid
  /// until `out` changes.
  public func utf8(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) -> UnsafeRawBufferPointer? {
    switch self {
    case .utf8: return UTF8Validation.isValid(bytes) ? bytes : nil
    case .utf8WithSignature:
      let bom = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
      let body = UnsafeRawBufferPointer(rebasing: bytes[(bom ? 3 : 0)...])
      return UTF8Validation.isValid(body) ? body : nil
    case .ascii: return bytes.allSatisfy { $0 < 0x80 } ? bytes : nil
    case .latin1, .utf16, .utf32:
      guard transcodeToUTF8(bytes, into: &out) else { return nil }
      return out.withUnsafeBytes { $0 }
    }
  }

  /// Latin-1, UTF-16 or UTF-32 content as UTF-8 into `out` (its capacity kept: a reused buffer
  /// allocates nothing once grown); false if it is not valid in this encoding. A byte-order
  /// mark decides the order where the name does not, and is not part of the text; without
  /// either, this host's order (little-endian), as Python's codecs.
  public func transcodeToUTF8(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
    // Into room for the longest result (2 UTF-8 bytes per Latin-1 byte, 3 per UTF-16
    // unit, 4 per UTF-32), then cut to length (rule 7, docs/PERFORMANCE.md).
    let room = bytes.count * 2
    if out.count < room { out.append(contentsOf: repeatElement(0, count: room - out.count)) }
    let written = out.withUnsafeMutableBytes { transcode(bytes, into: $0) }
    out.removeLast(out.count - (written ?? 0))
    return written != nil
  }

  /// The UTF-8 bytes written at the start of `out`, or nil if `bytes` is not valid.
  private func transcode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
    var w = 0
    switch self {
    case .latin1:
      for b in bytes { Self.writeUTF8(UInt32(b), to: out, at: &w) }
      return w
    case .utf16(let named):
      guard bytes.count % 2 == 0 else { return nil }
      let (start, big) = Self.byteOrder(bytes, named: named, width: 2)
      var at = start
      while at < bytes.count {
        var scalar = Self.unit16(bytes, at, big)
        at += 2
        if scalar & 0xF800 == 0xD800 {
          // A high surrogate and then a low one, or the text is not UTF-16.
          guard scalar < 0xDC00, at < bytes.count else { return nil }
          let low = Self.unit16(bytes, at, big)
          guard low & 0xFC00 == 0xDC00 else { return nil }
          at += 2
          scalar = 0x10000 + ((scalar - 0xD800) << 10 | (low - 0xDC00))
        }
        Self.writeUTF8(scalar, to: out, at: &w)
      }
      return w
    case .utf32(let named):
      guard bytes.count % 4 == 0 else { return nil }
      let (start, big) = Self.byteOrder(bytes, named: named, width: 4)
      var at = start
      while at < bytes.count {
        let b = (UInt32(bytes[at]), UInt32(bytes[at + 1]), UInt32(bytes[at + 2]), UInt32(bytes[at + 3]))
        let scalar = big ? b.0 << 24 | b.1 << 16 | b.2 << 8 | b.3 : b.3 << 24 | b.2 << 16 | b.1 << 8 | b.0
        guard scalar <= 0x10FFFF, scalar & 0xFFFF_F800 != 0xD800 else { return nil }
        Self.writeUTF8(scalar, to: out, at: &w)
        at += 4
      }
      return w
    default:
      return nil
    }
  }

  /// Where the text starts and whether it is big-endian: the name's order, or a leading
  /// byte-order mark's (skipped), or little-endian.
  private static func byteOrder(_ bytes: UnsafeRawBufferPointer, named: Bool?, width: Int) -> (Int, Bool) {
    if let named { return (0, named) }
    guard bytes.count >= width else { return (0, false) }
    let (b0, b1) = (bytes[0], bytes[1])
    let wide = width == 2 || (bytes[2] == 0 && bytes[3] == 0)
    if b0 == 0xFF && b1 == 0xFE && wide { return (width, false) }
    if width == 2 && b0 == 0xFE && b1 == 0xFF { return (width, true) }
    if width == 4 && b0 == 0 && b1 == 0 && bytes[2] == 0xFE && bytes[3] == 0xFF { return (width, true) }
    return (0, false)
  }

  @inline(__always) private static func unit16(_ bytes: UnsafeRawBufferPointer, _ i: Int, _ big: Bool) -> UInt32 {
    big ? UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]) : UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8
  }

  @inline(__always) private static func writeUTF8(
    _ scalar: UInt32, to out: UnsafeMutableRawBufferPointer, at w: inout Int
  ) {
    switch scalar {
    case ..<0x80:
      out[w] = UInt8(scalar)
      w += 1
    case ..<0x800:
      out[w] = UInt8(0xC0 | scalar >> 6)
      out[w + 1] = UInt8(0x80 | scalar & 0x3F)
      w += 2
    case ..<0x10000:
      out[w] = UInt8(0xE0 | scalar >> 12)
      out[w + 1] = UInt8(0x80 | scalar >> 6 & 0x3F)
      out[w + 2] = UInt8(0x80 | scalar & 0x3F)
      w += 3
    default:
      out[w] = UInt8(0xF0 | scalar >> 18)
      out[w + 1] = UInt8(0x80 | scalar >> 12 & 0x3F)
      out[w + 2] = UInt8(0x80 | scalar >> 6 & 0x3F)
      out[w + 3] = UInt8(0x80 | scalar & 0x3F)
      w += 4
    }
  }
}
