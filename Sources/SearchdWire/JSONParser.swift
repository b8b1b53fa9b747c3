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
    var keyScratch: [UInt8] = []
    var valueScratch: [UInt8] = []
    try forEachMember(
      ofObject: raw, maxDepth: WireLimits.default.maxJSONDepth, keyScratch: &keyScratch, valueScratch: &valueScratch,
      body)
  }

  /// As above, nesting at most `maxDepth` deep, with scratch buffers the caller keeps (a
  /// reader of many documents then allocates nothing once they have grown). `knownUTF8`:
  /// the caller has checked the whole document is UTF-8, so its strings are not checked
  /// again (escapes cannot make valid UTF-8 invalid).
  public static func forEachMember(
    ofObject raw: UnsafeRawBufferPointer, maxDepth: Int, knownUTF8: Bool = false, keyScratch: inout [UInt8],
    valueScratch: inout [UInt8],
    _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?, _ offset: Int) -> Bool
  ) throws(Failure) {
    let bytes = UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count)
    var p = JSONParser(bytes: bytes, maxDepth: maxDepth, knownUTF8: knownUTF8)
    p.skipWhitespace()
    guard p.peek == UInt8(ascii: "{") else {
      if p.index == bytes.count { throw .syntax(offset: p.index) }
      // Anything else that parses is the wrong kind of document; what does not, bad JSON.
      try p.skipValue(depth: 0, scratch: &valueScratch)
      p.skipWhitespace()
      guard p.index == bytes.count else { throw .syntax(offset: p.index) }
      throw .notAnObject
    }
    guard maxDepth >= 1 else { throw .tooDeep }
    p.index += 1
    p.skipWhitespace()
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
          try p.skipValue(depth: 1, scratch: &valueScratch)
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

  let bytes: UnsafeBufferPointer<UInt8>
  private let maxDepth: Int
  var index = 0

  /// The whole input is known to be UTF-8: strings are not checked one by one.
  let knownUTF8: Bool

  init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int, knownUTF8: Bool = false) {
    self.bytes = bytes
    self.maxDepth = maxDepth
    self.knownUTF8 = knownUTF8
  }

  var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

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

  /// Checks one value as `parseValue` reads it, building nothing (a string's escapes are
  /// resolved into `scratch`).
  private mutating func skipValue(depth: Int, scratch: inout [UInt8]) throws(Failure) {
    guard let c = peek else { throw .syntax(offset: index) }
    switch c {
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      guard depth + 1 <= maxDepth else { throw .tooDeep }
      let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
      index += 1
      skipWhitespace()
      if peek == close {
        index += 1
        return
      }
      while true {
        skipWhitespace()
        if close == UInt8(ascii: "}") {
          guard peek == UInt8(ascii: "\"") else { throw .syntax(offset: index) }
          _ = try parseStringBytes(scratch: &scratch)
          skipWhitespace()
          guard peek == UInt8(ascii: ":") else { throw .syntax(offset: index) }
          index += 1
          skipWhitespace()
        }
        try skipValue(depth: depth + 1, scratch: &scratch)
        skipWhitespace()
        switch peek {
        case UInt8(ascii: ","): index += 1
        case close:
          index += 1
          return
        default: throw .syntax(offset: index)
        }
      }
    case UInt8(ascii: "\""): _ = try parseStringBytes(scratch: &scratch)
    case UInt8(ascii: "t"): try expect("true")
    case UInt8(ascii: "f"): try expect("false")
    case UInt8(ascii: "n"): try expect("null")
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
    default: throw .syntax(offset: index)
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
    let integer = try scanNumber()
    let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    return JSONNumber(literal: literal, isIntegerLiteral: integer)
  }

  /// Reads past a number; whether it is an integer literal (no fraction, no exponent).
  private mutating func scanNumber() throws(Failure) -> Bool {
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
    return integer
  }

  private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
}

extension UInt8 {
  /// RFC 8259's four whitespace bytes, for every reader of JSON here.
  @inlinable public var isJSONWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
