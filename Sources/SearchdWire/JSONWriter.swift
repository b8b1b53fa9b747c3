/// Writes JSON the way Python's `json.dumps(obj, ensure_ascii=False)` does, so
/// replies are byte-identical to the reference server's.
public enum JSONWriter {
  /// Appends `s` as a quoted JSON string: `"` `\` and the named controls escaped,
  /// other controls as lower-case `\u00xx`, everything else raw UTF-8.
  public static func appendString(_ s: some StringProtocol, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for b in s.utf8 {
      switch b {
      case 0x22: out.append(contentsOf: [0x5C, 0x22])
      case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
      case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
      case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
      case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
      case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
      case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
      case 0x00..<0x20:
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
      default: out.append(b)
      }
    }
    out.append(UInt8(ascii: "\""))
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
