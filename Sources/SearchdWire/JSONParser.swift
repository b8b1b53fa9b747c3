/// A strict RFC 8259 parser over UTF-8 bytes with a nesting limit, written for
/// this protocol's small documents: no Foundation on the request path, and
/// control over what Foundation hides (duplicate keys, integer literals).
public struct JSONParser {
  public enum Failure: Error, Equatable, Sendable {
    case invalidUTF8
    case syntax(offset: Int)
    case tooDeep
    /// `forEachMember` was given something other than an object.
    case notAnObject
  }

  /// `maxDepth`: Python's and Foundation's limit by default, so all three agree on what
  /// nests too deep.
  public static func parse(
    _ bytes: some Collection<UInt8>, maxDepth: Int = WireLimits.default.maxJSONDepth
  ) throws(Failure)
    -> JSONValue
  {
    let array = Array(bytes)
    return try array.withUnsafeBufferPointer { (buf) throws(Failure) in
      var p = JSONParser(bytes: buf, maxDepth: maxDepth)
      p.skipWhitespace()
      let value = try p.parseValue(depth: 0)
      p.skipWhitespace()
      guard p.index == buf.count else { throw .syntax(offset: p.index) }
      return value
    }
  }

  /// A top-level object read member by member without building it, for documents of
  /// millions of members (an index): `body` gets each key's and string value's UTF-8 bytes
  /// (escapes resolved, validated; valid only during the call), nil for a value that is not
  /// a string (it is skipped), and the offset read up to; it returns false to stop.
  public static func forEachMember(
    ofObject raw: UnsafeRawBufferPointer,
    _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?, _ offset: Int) -> Bool
  ) throws(Failure) {
    let bytes = UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count)
    var p = JSONParser(bytes: bytes, maxDepth: WireLimits.default.maxJSONDepth)
    p.skipWhitespace()
    guard p.peek == UInt8(ascii: "{") else {
      if p.index == bytes.count { throw .syntax(offset: p.index) }
      // Anything else that parses is the wrong kind of document; what does not, bad JSON.
      _ = try p.parseValue(depth: 0)
      throw .notAnObject
    }
    p.index += 1
    p.skipWhitespace()
    var keyScratch: [UInt8] = []
    var valueScratch: [UInt8] = []
    if p.peek == UInt8(ascii: "}") {
      p.index += 1
    } else {
      members: while true {
        p.skipWhitespace()
        guard p.peek == UInt8(ascii: "\"") else { throw .syntax(offset: p.index) }
        let key = try p.parseStringBytes(scratch: &keyScratch)
        p.skipWhitespace()
        guard p.peek == UInt8(ascii: ":") else { throw .syntax(offset: p.index) }
        p.index += 1
        p.skipWhitespace()
        let value: UnsafeRawBufferPointer?
        if p.peek == UInt8(ascii: "\"") {
          value = try p.parseStringBytes(scratch: &valueScratch)
        } else {
          _ = try p.parseValue(depth: 1)
          value = nil
        }
        if !body(key, value, p.index) { return }
        p.skipWhitespace()
        switch p.peek {
        case UInt8(ascii: ","): p.index += 1
        case UInt8(ascii: "}"):
          p.index += 1
          break members
        default: throw .syntax(offset: p.index)
        }
      }
    }
    p.skipWhitespace()
    guard p.index == bytes.count else { throw .syntax(offset: p.index) }
  }

  private let bytes: UnsafeBufferPointer<UInt8>
  private let maxDepth: Int
  private var index = 0

  private init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
    self.bytes = bytes
    self.maxDepth = maxDepth
  }

  private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

  private mutating func skipWhitespace() {
    while index < bytes.count && bytes[index].isJSONWhitespace { index += 1 }
  }

  private mutating func expect(_ literal: StaticString) throws(Failure) {
    let start = index
    for b in UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount) {
      guard index < bytes.count, bytes[index] == b else { throw .syntax(offset: start) }
      index += 1
    }
  }

  private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
    guard let c = peek else { throw .syntax(offset: index) }
    switch c {
    case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
    case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"):
      try expect("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try expect("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try expect("null")
      return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return .number(try parseNumber())
    default:
      throw .syntax(offset: index)
    }
  }

  private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
    guard depth <= maxDepth else { throw .tooDeep }
    index += 1
    var members: [JSONMember] = []
    skipWhitespace()
    if peek == UInt8(ascii: "}") {
      index += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard peek == UInt8(ascii: "\"") else { throw .syntax(offset: index) }
      let key = try parseString()
      skipWhitespace()
      guard peek == UInt8(ascii: ":") else { throw .syntax(offset: index) }
      index += 1
      skipWhitespace()
      let value = try parseValue(depth: depth)
      members.append(JSONMember(key: key, value: value))
      skipWhitespace()
      switch peek {
      case UInt8(ascii: ","): index += 1
      case UInt8(ascii: "}"):
        index += 1
        return .object(members)
      default: throw .syntax(offset: index)
      }
    }
  }

  private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
    guard depth <= maxDepth else { throw .tooDeep }
    index += 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if peek == UInt8(ascii: "]") {
      index += 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      elements.append(try parseValue(depth: depth))
      skipWhitespace()
      switch peek {
      case UInt8(ascii: ","): index += 1
      case UInt8(ascii: "]"):
        index += 1
        return .array(elements)
      default: throw .syntax(offset: index)
      }
    }
  }

  private mutating func parseNumber() throws(Failure) -> JSONNumber {
    let start = index
    var integer = true
    if peek == UInt8(ascii: "-") { index += 1 }
    guard let first = peek, isDigit(first) else { throw .syntax(offset: index) }
    if first == UInt8(ascii: "0") {
      index += 1
    } else {
      while let c = peek, isDigit(c) { index += 1 }
    }
    if peek == UInt8(ascii: ".") {
      integer = false
      index += 1
      guard let c = peek, isDigit(c) else { throw .syntax(offset: index) }
      while let c = peek, isDigit(c) { index += 1 }
    }
    if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
      integer = false
      index += 1
      if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
      guard let c = peek, isDigit(c) else { throw .syntax(offset: index) }
      while let c = peek, isDigit(c) { index += 1 }
    }
    let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    return JSONNumber(literal: literal, isIntegerLiteral: integer)
  }

  private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

  private mutating func parseString() throws(Failure) -> String {
    var scratch: [UInt8] = []
    return String(decoding: try parseStringBytes(scratch: &scratch), as: UTF8.self)
  }

  /// A string's UTF-8 bytes, validated: where they lie when the string has no escapes,
  /// else resolved into `scratch`. Valid until `scratch` or the input changes.
  private mutating func parseStringBytes(scratch: inout [UInt8]) throws(Failure) -> UnsafeRawBufferPointer {
    index += 1  // opening quote
    let start = index
    // Fast path: no escapes, so the bytes are the string once validated as UTF-8.
    index = JSONScan.firstSpecial(UnsafeRawBufferPointer(bytes), from: index)
    if index < bytes.count {
      let c = bytes[index]
      if c == UInt8(ascii: "\"") {
        let raw = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        index += 1
        guard Self.isValidUTF8(raw) else { throw .invalidUTF8 }
        return raw
      }
      if c < 0x20 { throw .syntax(offset: index) }
    }
    scratch.removeAll(keepingCapacity: true)
    scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
    guard try resolveEscapes(into: &scratch, untilQuote: true) else { throw .syntax(offset: index) }
    let resolved = scratch.withUnsafeBytes { $0 }
    guard Self.isValidUTF8(resolved) else { throw .invalidUTF8 }
    return resolved
  }

  /// A string's body (what lies between its quotes) with its escapes resolved, into
  /// `out`: false if it is not a valid JSON string body (a bad escape, a lone surrogate, a
  /// control, an unescaped quote, or bytes that are not UTF-8). For a query the
  /// accelerator found escaped in place.
  public static func unescape(_ body: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
    let bytes = UnsafeBufferPointer(start: body.baseAddress?.assumingMemoryBound(to: UInt8.self), count: body.count)
    var p = JSONParser(bytes: bytes, maxDepth: 0)
    out.removeAll(keepingCapacity: true)
    guard (try? p.resolveEscapes(into: &out, untilQuote: false)) == true else { return false }
    return out.withUnsafeBytes { isValidUTF8($0) }
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

  private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool { UTF8Validation.isValid(bytes) }

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

extension UInt8 {
  /// RFC 8259's four whitespace bytes, for every reader of JSON here.
  @inlinable public var isJSONWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
