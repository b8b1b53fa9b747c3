/// Strings: in place without escapes, else resolved into scratch; always checked to be UTF-8.
extension JSONParser {
  /// A string from its opening quote. Valid until `scratch` or the input changes.
  mutating func string(_ scratch: inout [UInt8]) throws(Failure) -> UnsafeRawBufferPointer {
    let start = index + 1  // past the opening quote
    index = JSONScan.firstSpecial(raw, from: start)
    var text = UnsafeRawBufferPointer(rebasing: raw[start..<index])
    if peek == UInt8(ascii: "\"") {
      index += 1
    } else {
      scratch.removeAll(keepingCapacity: true)
      scratch.append(contentsOf: text)
      guard try unescape(into: &scratch, untilQuote: true) else { throw .syntax(offset: index) }
      text = scratch.withUnsafeBytes { $0 }
    }
    guard knownUTF8 || UTF8Validation.isValid(text) else { throw .invalidUTF8 }
    return text
  }

  /// A string's body (between its quotes) resolved into `out`, if valid: the index's stored text.
  public static func unescape(_ body: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
    var p = JSONParser(raw: body, maxDepth: 0, knownUTF8: false)
    out.removeAll(keepingCapacity: true)
    guard (try? p.unescape(into: &out, untilQuote: false)) == true else { return false }
    return out.withUnsafeBytes { UTF8Validation.isValid($0) }
  }

  /// Appends to `out` the string's bytes from `index`, resolved, to the closing quote (true
  /// when found) or, unless `untilQuote`, the end.
  private mutating func unescape(into out: inout [UInt8], untilQuote: Bool) throws(Failure) -> Bool {
    while let c = peek {
      index += 1
      if c == UInt8(ascii: "\"") { return untilQuote }
      guard c >= 0x20 else { throw .syntax(offset: index - 1) }
      guard c == UInt8(ascii: "\\") else {
        out.append(c)
        continue
      }
      guard let e = peek else { throw .syntax(offset: index) }
      index += 1
      switch e {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"): try unicodeEscape(into: &out)
      default: throw .syntax(offset: index - 1)
      }
    }
    return !untilQuote
  }

  /// `\uXXXX`, surrogates paired; a lone one cannot become UTF-8, so it is refused.
  private mutating func unicodeEscape(into out: inout [UInt8]) throws(Failure) {
    var scalar = try hex4()
    if scalar & 0xFC00 == 0xD800 {
      guard peek == UInt8(ascii: "\\"), index + 1 < raw.count, raw[index + 1] == UInt8(ascii: "u")
      else { throw .syntax(offset: index) }
      index += 2
      let low = try hex4()
      guard low & 0xFC00 == 0xDC00 else { throw .syntax(offset: index) }
      scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
    }
    guard let u = Unicode.Scalar(scalar) else { throw .syntax(offset: index) }
    out.append(contentsOf: UTF8.encode(u)!)
  }

  private mutating func hex4() throws(Failure) -> UInt32 {
    guard index + 4 <= raw.count else { throw .syntax(offset: index) }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let (c, lower) = (raw[index], raw[index] | 0x20)
      let d = c &- 0x30 < 10 ? c &- 0x30 : lower &- 0x61 < 6 ? lower &- 0x57 : 16
      guard d < 16 else { throw .syntax(offset: index) }
      (v, index) = (v << 4 | UInt32(d), index + 1)
    }
    return v
  }
}
