/// The text encodings a JSON request's content may declare, as Python's codec
/// names spell them, decoded to UTF-8 strictly (bad input is an error, not U+FFFD).
public enum TextEncoding: Sendable, Equatable {
  case utf8, utf8WithSignature
  case utf16(bigEndian: Bool?), utf32(bigEndian: Bool?)
  case ascii, latin1

  /// The canonical name of UTF-8, which the accelerator accepts without normalising.
  public static let utf8Name: StaticString = "utf-8"

  /// Python normalises codec names: case, `-`/`_`/space all alike.
  public init?(name: String) {
    let n = String(name.lowercased().map { $0 == "_" || $0 == " " ? "-" : $0 })
    switch n {
    case "utf-8", "utf8", "u8", "utf", "cp65001": self = .utf8
    case "utf-8-sig", "utf8-sig": self = .utf8WithSignature
    case "utf-16", "utf16", "u16": self = .utf16(bigEndian: nil)
    case "utf-16-le", "utf-16le", "utf16le": self = .utf16(bigEndian: false)
    case "utf-16-be", "utf-16be", "utf16be": self = .utf16(bigEndian: true)
    case "utf-32", "utf32", "u32": self = .utf32(bigEndian: nil)
    case "utf-32-le", "utf-32le", "utf32le": self = .utf32(bigEndian: false)
    case "utf-32-be", "utf-32be", "utf32be": self = .utf32(bigEndian: true)
    case "ascii", "us-ascii", "646": self = .ascii
    case "latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1", "8859", "cp819": self = .latin1
    default: return nil
    }
  }

  /// The content as UTF-8, or nil if it is not valid in this encoding.
  public func decodeToUTF8(_ bytes: [UInt8]) -> [UInt8]? {
    switch self {
    case .utf8:
      return String(validating: bytes, as: UTF8.self) != nil ? bytes : nil
    case .utf8WithSignature:
      let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
      return String(validating: body, as: UTF8.self) != nil ? body : nil
    case .ascii:
      return bytes.allSatisfy { $0 < 0x80 } ? bytes : nil
    case .latin1:
      var out: [UInt8] = []
      out.reserveCapacity(bytes.count)
      for b in bytes { out.append(contentsOf: UTF8.encode(Unicode.Scalar(b))!) }
      return out
    case .utf16(let be):
      guard bytes.count % 2 == 0 else { return nil }
      var units = stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
      var bigEndian = be ?? false
      if be == nil, let first = units.first {
        // A byte-order mark decides, and is not part of the text; without one, this host's order.
        if first == 0xFEFF {
          units.removeFirst()
        } else if first == 0xFFFE {
          bigEndian = true
          units.removeFirst()
        }
      }
      if bigEndian { units = units.map { $0.byteSwapped } }
      return Self.transcode(units, from: UTF16.self)
    case .utf32(let be):
      guard bytes.count % 4 == 0 else { return nil }
      var units = stride(from: 0, to: bytes.count, by: 4).map {
        UInt32(bytes[$0]) | UInt32(bytes[$0 + 1]) << 8 | UInt32(bytes[$0 + 2]) << 16 | UInt32(bytes[$0 + 3]) << 24
      }
      var bigEndian = be ?? false
      if be == nil, let first = units.first {
        if first == 0xFEFF {
          units.removeFirst()
        } else if first == 0xFFFE_0000 {
          bigEndian = true
          units.removeFirst()
        }
      }
      if bigEndian { units = units.map { $0.byteSwapped } }
      return Self.transcode(units, from: UTF32.self)
    }
  }

  private static func transcode<C: UnicodeCodec>(_ units: [C.CodeUnit], from: C.Type) -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(units.count)
    let failed = Swift.transcode(units.makeIterator(), from: C.self, to: UTF8.self, stoppingOnError: true) {
      out.append($0)
    }
    return failed ? nil : out
  }
}
