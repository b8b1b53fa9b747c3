import Glibc

/// The accelerator's scanner: the strict, narrow JSON it accepts in a plain request's
/// header and search content, read in place without allocating.
struct PlainScanner {
  let bytes: UnsafeRawBufferPointer
  var index: Int
  let end: Int

  private static let quote = UInt8(ascii: "\"")

  mutating func skipWhitespace() {
    while index < end && bytes[index].isJSONWhitespace { index += 1 }
  }

  mutating func take(_ byte: UInt8) -> Bool {
    skipWhitespace()
    guard index < end, bytes[index] == byte else { return false }
    index += 1
    return true
  }

  /// A string without escapes or controls, of printable ASCII; its bytes' range (quotes
  /// excluded).
  mutating func plainString() -> Range<Int>? {
    guard let (range, escaped) = string(utf8: false), !escaped else { return nil }
    return range
  }

  /// A string without controls, of printable ASCII (or, with `utf8`, of well-formed
  /// UTF-8 and escapes, which the caller checks); its bytes' range (quotes excluded) and
  /// whether it holds escapes.
  mutating func string(utf8: Bool) -> (Range<Int>, escaped: Bool)? {
    guard take(Self.quote) else { return nil }
    let start = index
    var ascii = true
    var escaped = false
    while index < end {
      let b = bytes[index]
      if b == Self.quote {
        index += 1
        let range = start..<(index - 1)
        guard ascii || UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: bytes[range])) else { return nil }
        return (range, escaped)
      }
      if b == UInt8(ascii: "\\") {
        // Skipped here, checked whole by the caller.
        guard utf8, index + 1 < end else { return nil }
        escaped = true
        index += 2
        continue
      }
      guard b >= 0x20, utf8 || b < 0x7F else { return nil }
      if b >= 0x80 { ascii = false }
      index += 1
    }
    return nil
  }

  func equals(_ range: Range<Int>, _ literal: StaticString) -> Bool {
    UnsafeRawBufferPointer(rebasing: bytes[range]).equals(literal)
  }

  /// A decimal integer as JSON writes one (no sign, no leading zero, no fraction or
  /// exponent), short enough not to overflow.
  mutating func plainInteger() -> Int? {
    skipWhitespace()
    let start = index
    var value = 0
    while index < end, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
      // Past 9 digits it is refused below; stop counting before it could overflow.
      if index - start < 9 { value = value * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
      index += 1
    }
    let digits = index - start
    guard digits > 0, digits <= 9, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
    return value
  }

  /// `{` key `:` value (`,` key `:` value)* `}` over the four header keys, each once: a
  /// JSON request must be in UTF-8 (the accelerator decodes nothing else), a binary one
  /// may name any encoding.
  mutating func header() -> PlainHeader? {
    guard take(UInt8(ascii: "{")) else { return nil }
    var seen = 0
    var contentLength = -1
    var isJSON = false
    var encoding: TextEncoding?
    repeat {
      guard let key = plainString(), take(UInt8(ascii: ":")) else { return nil }
      let bit: Int
      if equals(key, Header.Key.contentLength) {
        bit = 1
        guard let n = plainInteger() else { return nil }
        contentLength = n
      } else if equals(key, Header.Key.contentType) {
        bit = 2
        guard let v = plainString() else { return nil }
        isJSON = equals(v, Message.jsonTypeLiteral)
      } else if equals(key, Header.Key.contentEncoding) {
        bit = 4
        guard let v = plainString() else { return nil }
        encoding = jsonEncoding(v)
      } else if equals(key, Header.Key.byteorder) {
        bit = 8
        guard plainString() != nil else { return nil }
      } else {
        return nil
      }
      guard seen & bit == 0 else { return nil }
      seen |= bit
    } while take(UInt8(ascii: ","))
    guard take(UInt8(ascii: "}")), seen == 15, !isJSON || encoding != nil else { return nil }
    skipWhitespace()
    return PlainHeader(contentLength: contentLength, isJSON: isJSON, encoding: encoding ?? .utf8)
  }

  /// The encodings the accelerator reads JSON content in, by the names Python's codecs
  /// give them (`utf-8`, `utf-16[-le|-be]`, `utf-32[-le|-be]`); nil for any other
  /// spelling or encoding, which the full decoder reads.
  func jsonEncoding(_ name: Range<Int>) -> TextEncoding? {
    if equals(name, TextEncoding.utf8Name) { return .utf8 }
    if equals(name, "utf-16") { return .utf16(bigEndian: nil) }
    if equals(name, "utf-16-le") { return .utf16(bigEndian: false) }
    if equals(name, "utf-16-be") { return .utf16(bigEndian: true) }
    if equals(name, "utf-32") { return .utf32(bigEndian: nil) }
    if equals(name, "utf-32-le") { return .utf32(bigEndian: false) }
    if equals(name, "utf-32-be") { return .utf32(bigEndian: true) }
    return nil
  }

  /// `{"action": "search", "value": "..."}`, the two keys in either order, each once;
  /// the query's range and whether it is written with escapes.
  mutating func searchContent() -> (Range<Int>, escaped: Bool)? {
    guard take(UInt8(ascii: "{")) else { return nil }
    var sawAction = false
    var query: (Range<Int>, escaped: Bool)?
    repeat {
      guard let key = plainString(), take(UInt8(ascii: ":")) else { return nil }
      if equals(key, "action") {
        guard !sawAction, let value = plainString(), equals(value, "search") else { return nil }
        sawAction = true
      } else if equals(key, "value") {
        guard query == nil, let value = string(utf8: true) else { return nil }
        query = value
      } else {
        return nil
      }
    } while take(UInt8(ascii: ","))
    guard take(UInt8(ascii: "}")), sawAction else { return nil }
    skipWhitespace()
    return query
  }
}

/// What the accelerator needs of a plain header.
struct PlainHeader: Sendable {
  var contentLength: Int
  /// `text/json` (in an encoding the accelerator reads): a search, if its content says
  /// so; otherwise binary.
  var isJSON: Bool
  /// The JSON content's encoding.
  var encoding: TextEncoding
}

extension UnsafeRawBufferPointer {
  /// Whether these bytes are `literal`'s UTF-8, byte for byte (the readers' key and
  /// keyword comparisons: no String, no generic sequence walk).
  @inline(__always) func equals(_ literal: StaticString) -> Bool {
    count == literal.utf8CodeUnitCount && (count == 0 || memcmp(baseAddress!, literal.utf8Start, count) == 0)
  }
}
