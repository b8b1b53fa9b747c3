/// Writes JSON the way Python's `json.dumps(obj, ensure_ascii=False)` does, so
/// replies are byte-identical to the reference server's.
public enum JSONWriter {
  /// The most bytes `writeString` writes for `count` bytes of text (a control as `\u00xx`).
  public static func maxStringLength(_ count: Int) -> Int { count * 6 + 2 }

  /// Writes UTF-8 `text` as a JSON string at `out`, which has room for
  /// `maxStringLength(text.count)`: `"` `\` and the named controls escaped, other controls
  /// as lower-case `\u00xx`, everything else raw UTF-8; in quotes unless `quoted` is false.
  /// Returns the bytes written.
  public static func writeString(
    _ text: UnsafeRawBufferPointer, to out: UnsafeMutableRawPointer, quoted: Bool = true
  ) -> Int {
    var at = 0
    @inline(__always) func put(_ b: UInt8) {
      out.storeBytes(of: b, toByteOffset: at, as: UInt8.self)
      at += 1
    }
    if quoted { put(UInt8(ascii: "\"")) }
    var from = 0
    while true {
      // The plain run up to the next special byte, copied whole.
      let next = JSONScan.firstSpecial(text, from: from)
      if next > from {
        (out + at).copyMemory(from: text.baseAddress! + from, byteCount: next - from)
        at += next - from
      }
      if next == text.count { break }
      let b = text[next]
      switch b {
      case 0x22, 0x5C:
        put(0x5C)
        put(b)
      case 0x0A: escape("n")
      case 0x0D: escape("r")
      case 0x09: escape("t")
      case 0x08: escape("b")
      case 0x0C: escape("f")
      default:
        for c in "\\u00".utf8 { put(c) }
        put(hexDigits[Int(b >> 4)])
        put(hexDigits[Int(b & 0xF)])
      }
      from = next + 1
    }
    if quoted { put(UInt8(ascii: "\"")) }
    return at

    func escape(_ c: Unicode.Scalar) {
      put(0x5C)
      put(UInt8(ascii: c))
    }
  }

  private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

  /// The bytes `writeString(text, quoted: false)` writes.
  public static func escapedLength(_ text: UnsafeRawBufferPointer) -> Int {
    var length = text.count
    var from = 0
    while true {
      let next = JSONScan.firstSpecial(text, from: from)
      if next == text.count { return length }
      switch text[next] {
      case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: length += 1
      default: length += 5  // \u00xx
      }
      from = next + 1
    }
  }

  /// Appends `s` as a quoted JSON string, as `writeString` writes it (through scratch
  /// space: growing `out` by a repeated zero went element by element, minutes for a
  /// test's 30,000 requests under ThreadSanitizer).
  public static func appendString(_ s: some StringProtocol, to out: inout [UInt8]) {
    let text = Array(s.utf8)
    text.withUnsafeBytes { t in
      withUnsafeTemporaryAllocation(byteCount: maxStringLength(t.count), alignment: 1) { room in
        let written = writeString(t, to: room.baseAddress!)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: room[..<written]))
      }
    }
  }

  /// A value allowed in our messages: string or non-negative integer.
  public enum Scalar {
    case string(String)
    case integer(Int)
  }

  /// `{"k1": v1, "k2": v2}` with Python's default separators.
  public static func appendObject(_ members: KeyValuePairs<String, Scalar>, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "{"))
    var first = true
    for (key, value) in members {
      if !first { out.append(contentsOf: [0x2C, 0x20]) }
      first = false
      appendString(key, to: &out)
      out.append(contentsOf: [0x3A, 0x20])
      switch value {
      case .string(let s): appendString(s, to: &out)
      case .integer(let n): out.append(contentsOf: String(n).utf8)
      }
    }
    out.append(UInt8(ascii: "}"))
  }
}
