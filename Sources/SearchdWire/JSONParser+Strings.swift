/// Strings: read in place when they hold no escapes, resolved into scratch space when
/// they do, always checked to be UTF-8.
extension JSONParser {
  /// A string's UTF-8 bytes, validated: where they lie when the string has no escapes,
  /// else resolved into `scratch`. Valid until `scratch` or the input changes.
  mutating func parseStringBytes(scratch: inout [UInt8]) throws(Failure) -> UnsafeRawBufferPointer {
    index += 1  // opening quote
    let start = index
    // Fast path: no escapes, so the bytes are the string once validated as UTF-8.
    index = JSONScan.firstSpecial(UnsafeRawBufferPointer(bytes), from: index)
    if index < bytes.count {
      let c = bytes[index]
      if c == UInt8(ascii: "\"") {
        let raw = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        index += 1
        guard knownUTF8 || UTF8Validation.isValid(raw) else { throw .invalidUTF8 }
        return raw
      }
      if c < 0x20 { throw .syntax(offset: index) }
    }
    scratch.removeAll(keepingCapacity: true)
    scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
    guard try resolveEscapes(into: &scratch, untilQuote: true) else { throw .syntax(offset: index) }
    let resolved = scratch.withUnsafeBytes { $0 }
    guard knownUTF8 || UTF8Validation.isValid(resolved) else { throw .invalidUTF8 }
    return resolved
  }

  /// A string's body (what lies between its quotes) with its escapes resolved, into
  /// `out`: false if it is not a valid JSON string body (a bad escape, a lone surrogate, a
  /// control, an unescaped quote, or bytes that are not UTF-8). For the index's stored
  /// text.
  public static func unescape(_ body: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
    let bytes = UnsafeBufferPointer(start: body.baseAddress?.assumingMemoryBound(to: UInt8.self), count: body.count)
    var p = JSONParser(bytes: bytes, maxDepth: 0)
    out.removeAll(keepingCapacity: true)
    guard (try? p.resolveEscapes(into: &out, untilQuote: false)) == true else { return false }
    return out.withUnsafeBytes { UTF8Validation.isValid($0) }
  }

  /// From `index`, the string's bytes with escapes resolved, appended to `out`, up to the
  /// closing quote (consumed; true when found) or, unless `untilQuote`, the end.
  private mutating func resolveEscapes(into scratch: inout [UInt8], untilQuote: Bool) throws(Failure) -> Bool {
    while index < bytes.count {
      let c = bytes[index]
      switch c {
      case UInt8(ascii: "\""):
        index += 1
        return untilQuote
      case UInt8(ascii: "\\"):
        index += 1
        guard let e = peek else { throw .syntax(offset: index) }
        index += 1
        switch e {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"): try appendUnicodeEscape(to: &scratch)
        default: throw .syntax(offset: index - 1)
        }
      default:
        if c < 0x20 { throw .syntax(offset: index) }
        scratch.append(c)
        index += 1
      }
    }
    return !untilQuote
  }

  private mutating func hex4() throws(Failure) -> UInt32 {
    guard index + 4 <= bytes.count else { throw .syntax(offset: index) }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let c = bytes[index]
      let d: UInt8
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
      default: throw .syntax(offset: index)
      }
      v = v << 4 | UInt32(d)
      index += 1
    }
    return v
  }

  /// `\uXXXX`, pairing surrogates; a lone surrogate cannot become UTF-8, so it is refused.
  private mutating func appendUnicodeEscape(to out: inout [UInt8]) throws(Failure) {
    var scalar = try hex4()
    if (0xD800...0xDBFF).contains(scalar) {
      guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
      else { throw .syntax(offset: index) }
      index += 2
      let low = try hex4()
      guard (0xDC00...0xDFFF).contains(low) else { throw .syntax(offset: index) }
      scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
    } else if (0xDC00...0xDFFF).contains(scalar) {
      throw .syntax(offset: index)
    }
    guard let u = Unicode.Scalar(scalar) else { throw .syntax(offset: index) }
    out.append(contentsOf: UTF8.encode(u)!)
  }
}
