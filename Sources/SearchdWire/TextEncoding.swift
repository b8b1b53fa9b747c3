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
    case .latin1:
      out.removeAll(keepingCapacity: true)
      for b in bytes {
        if b >= 0x80 { out.append(0xC0 | b >> 6) }
        out.append(b >= 0x80 ? 0x80 | b & 0x3F : b)
      }
      return out.withUnsafeBytes { $0 }
    case .utf16(let named): return Self.decode(bytes, UTF16.self, named, into: &out)
    case .utf32(let named): return Self.decode(bytes, UTF32.self, named, into: &out)
    }
  }

  /// UTF-16 or UTF-32, by the standard library (rule 7). A byte-order mark decides the order
  /// where the name does not, and is not text; without either, little-endian (as Python here).
  private static func decode<Codec: UnicodeCodec>(
    _ bytes: UnsafeRawBufferPointer, _ codec: Codec.Type, _ named: Bool?, into out: inout [UInt8]
  ) -> UnsafeRawBufferPointer? where Codec.CodeUnit: FixedWidthInteger {
    let width = MemoryLayout<Codec.CodeUnit>.size
    guard bytes.count % width == 0 else { return nil }
    let unit = { (i: Int) in
      Codec.CodeUnit(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: Codec.CodeUnit.self))
    }
    var (start, big) = (0, named ?? false)
    if named == nil && bytes.count >= width {
      if unit(0) == 0xFEFF { start = width }
      if unit(0) == Codec.CodeUnit(0xFEFF).byteSwapped { (start, big) = (width, true) }
    }
    let units = stride(from: start, to: bytes.count, by: width).lazy.map { big ? unit($0).byteSwapped : unit($0) }
    out.removeAll(keepingCapacity: true)
    let failed = transcode(units.makeIterator(), from: codec, to: UTF8.self, stoppingOnError: true) { out.append($0) }
    return failed ? nil : out.withUnsafeBytes { $0 }
  }
}
