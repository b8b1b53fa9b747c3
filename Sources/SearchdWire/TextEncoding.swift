/// The encodings a JSON request may declare, as Python's codecs name them, decoded strictly.
public enum TextEncoding: Sendable, Equatable {
  case utf8, utf8WithSignature
  case utf16(bigEndian: Bool?), utf32(bigEndian: Bool?)
  case ascii, latin1

  /// The encoding `name` names, normalised as Python does (ASCII case; `-`, `_`, space alike).
  public init?(name: UnsafeRawBufferPointer) {
    func normal(_ b: UInt8) -> UInt8 { b == 0x5F || b == 0x20 ? 0x2D : b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
    func named(_ known: StaticString) -> Bool {
      let k = UnsafeRawBufferPointer(start: known.utf8Start, count: known.utf8CodeUnitCount)
      return k.count == name.count && zip(name, k).allSatisfy { normal($0) == $1 }
    }
    guard let found = Self.names.first(where: { $0.1.contains(where: named) }) else { return nil }
    self = found.0
  }

  private static let names: [(TextEncoding, [StaticString])] = [
    (.utf8, ["utf-8", "utf8", "u8", "utf", "cp65001"]), (.utf8WithSignature, ["utf-8-sig", "utf8-sig"]),
    (.utf16(bigEndian: nil), ["utf-16", "utf16", "u16"]),
    (.utf16(bigEndian: false), ["utf-16-le", "utf-16le", "utf16le"]),
    (.utf16(bigEndian: true), ["utf-16-be", "utf-16be", "utf16be"]),
    (.utf32(bigEndian: nil), ["utf-32", "utf32", "u32"]),
    (.utf32(bigEndian: false), ["utf-32-le", "utf-32le", "utf32le"]),
    (.utf32(bigEndian: true), ["utf-32-be", "utf-32be", "utf32be"]), (.ascii, ["ascii", "us-ascii", "646"]),
    (.latin1, ["latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1", "8859", "cp819"]),
  ]

  /// The content as UTF-8, in place where it is (a signature skipped), else in `out`; nil if invalid.
  public func utf8(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) -> UnsafeRawBufferPointer? {
    switch self {
    case .utf8, .utf8WithSignature:
      let signed = self == .utf8WithSignature && bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB
      let body = signed && bytes[2] == 0xBF ? UnsafeRawBufferPointer(rebasing: bytes[3...]) : bytes
      return UTF8Validation.isValid(body) ? body : nil
    case .ascii: return bytes.allSatisfy { $0 < 0x80 } ? bytes : nil
    case .latin1: return Self.transcode(bytes, UInt8.self, false, into: &out)
    case .utf16(let big): return Self.transcode(bytes, UInt16.self, big, into: &out)
    case .utf32(let big): return Self.transcode(bytes, UInt32.self, big, into: &out)
    }
  }

  /// Latin-1, UTF-16 or UTF-32 as UTF-8, written into room made once (rule 7). A byte-order
  /// mark decides the order where the name does not, and is not text; else little-endian.
  private static func transcode<Unit: FixedWidthInteger & UnsignedInteger>(
    _ bytes: UnsafeRawBufferPointer, _: Unit.Type, _ named: Bool?, into out: inout [UInt8]
  ) -> UnsafeRawBufferPointer? {
    let width = MemoryLayout<Unit>.size
    guard bytes.count % width == 0 else { return nil }
    func unit(_ at: Int, _ big: Bool) -> UInt32 {
      let u = Unit(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Unit.self))
      return UInt32(truncatingIfNeeded: big ? u.byteSwapped : u)
    }
    let marked = named == nil && bytes.count >= width && width > 1
    let (little, big) = (marked && unit(0, false) == 0xFEFF, marked && unit(0, true) == 0xFEFF)
    let (start, bigEndian) = (little || big ? width : 0, named ?? big)
    // At most two UTF-8 bytes a Latin-1 byte, three a UTF-16 unit, four a UTF-32 one.
    if out.count < 2 * bytes.count { out.append(contentsOf: repeatElement(0, count: 2 * bytes.count - out.count)) }
    let written = out.withUnsafeMutableBytes { o -> Int? in
      var (i, w) = (start, 0)
      while i < bytes.count {
        var s = unit(i, bigEndian)
        i += MemoryLayout<Unit>.size
        if Unit.bitWidth == 16 && s & 0xF800 == 0xD800 {  // a high surrogate and a low one
          guard s < 0xDC00, i < bytes.count, unit(i, bigEndian) & 0xFC00 == 0xDC00 else { return nil }
          (s, i) = (0x10000 + ((s - 0xD800) << 10 | (unit(i, bigEndian) - 0xDC00)), i + 2)
        }
        guard s >= 0x80 else {
          (o[w], w) = (UInt8(s), w + 1)
          continue
        }
        guard s < 0x11_0000, s & 0xFFFF_F800 != 0xD800 else { return nil }
        let n = s < 0x800 ? 2 : s < 0x10000 ? 3 : 4
        for k in stride(from: n - 1, to: 0, by: -1) {
          (o[w + k], s) = (0x80 | UInt8(truncatingIfNeeded: s) & 0x3F, s >> 6)
        }
        o[w] = UInt8(truncatingIfNeeded: 0xFF00 >> n | s)
        w += n
      }
      return w
    }
    out.removeLast(out.count - (written ?? 0))
    return written.map { _ in out.withUnsafeBytes { $0 } }
  }
}
