import Glibc

/// The one JSON grammar searchd reads (strict RFC 8259 over UTF-8, nesting limited), walking an
/// object in place and building nothing: frame headers, request content and JSON index files.
public struct JSONParser {
  public enum Failure: Error, Hashable, Sendable {
    case invalidUTF8, tooDeep, notAnObject
    case syntax(offset: Int)
  }

  /// A member's value (valid during the callback): a string's UTF-8, a number's literal, or other.
  public enum Member {
    case string(UnsafeRawBufferPointer)
    case number(literal: UnsafeRawBufferPointer, isInteger: Bool)
    case other
  }

  public typealias Body = (_ key: UnsafeRawBufferPointer, _ value: Member, _ offset: Int) -> Bool

  /// Hands `body` each member of the object in `raw` and the offset read up to (false stops).
  /// The scratch is the caller's, reused; `knownUTF8`: strings need no check of their own.
  public static func forEachMember(
    ofObject raw: UnsafeRawBufferPointer, maxDepth: Int, knownUTF8: Bool = false, keyScratch: inout [UInt8],
    valueScratch: inout [UInt8], _ body: Body
  ) throws(Failure) {
    var p = JSONParser(raw: raw, maxDepth: maxDepth, knownUTF8: knownUTF8)
    p.skipWhitespace()
    let isObject = p.peek == UInt8(ascii: "{")
    if isObject {
      guard try p.container(depth: 0, keys: &keyScratch, values: &valueScratch, body) else { return }
    } else {
      _ = try p.value(depth: 0, keys: &keyScratch, values: &valueScratch)
    }
    p.skipWhitespace()
    guard p.index == raw.count else { throw .syntax(offset: p.index) }
    guard isObject else { throw .notAnObject }
  }

  let raw: UnsafeRawBufferPointer
  let maxDepth: Int
  let knownUTF8: Bool
  var index = 0

  var peek: UInt8? { index < raw.count ? raw[index] : nil }

  @inline(__always) private mutating func skipWhitespace() {
    while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { index += 1 }
  }

  /// An object or array; `body` gets the top level's members (false: stopped). Nested keys
  /// go to `values`: a member's key must outlive its value.
  private mutating func container(depth: Int, keys: inout [UInt8], values: inout [UInt8], _ body: Body) throws(Failure)
    -> Bool
  {
    guard depth < maxDepth else { throw .tooDeep }
    let isObject = raw[index] == UInt8(ascii: "{")
    let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
    index += 1
    skipWhitespace()
    guard peek != close else {
      index += 1
      return true
    }
    while true {
      skipWhitespace()
      var key = UnsafeRawBufferPointer(start: nil, count: 0)
      if isObject {
        guard peek == UInt8(ascii: "\"") else { throw .syntax(offset: index) }
        key = depth == 0 ? try string(&keys) : try string(&values)
        skipWhitespace()
        guard peek == UInt8(ascii: ":") else { throw .syntax(offset: index) }
        index += 1
        skipWhitespace()
      }
      let value = try self.value(depth: depth + 1, keys: &keys, values: &values)
      if depth == 0 && isObject && !body(key, value, index) { return false }
      skipWhitespace()
      switch peek {
      case UInt8(ascii: ","): index += 1
      case close:
        index += 1
        return true
      default: throw .syntax(offset: index)
      }
    }
  }

  /// One value, checked: a string or number handed back, anything else skipped.
  private mutating func value(depth: Int, keys: inout [UInt8], values: inout [UInt8]) throws(Failure)
    -> Member
  {
    let start = index
    switch peek ?? 0 {
    case UInt8(ascii: "\""): return .string(try string(&values))
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      let isInteger = try number()
      return .number(literal: UnsafeRawBufferPointer(rebasing: raw[start..<index]), isInteger: isInteger)
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      _ = try container(depth: depth, keys: &keys, values: &values) { _, _, _ in true }
    case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
      let word: StaticString = peek == UInt8(ascii: "t") ? "true" : peek == UInt8(ascii: "f") ? "false" : "null"
      let end = index + word.utf8CodeUnitCount
      guard end <= raw.count, UnsafeRawBufferPointer(rebasing: raw[index..<end]).equals(word) else {
        throw .syntax(offset: index)
      }
      index = end
    default: throw .syntax(offset: index)
    }
    return .other
  }

  /// Reads past a number; whether it is an integer literal (no fraction, no exponent).
  private mutating func number() throws(Failure) -> Bool {
    if peek == UInt8(ascii: "-") { index += 1 }
    if peek == UInt8(ascii: "0") { index += 1 } else { try digits(after: 0) }
    let integerEnd = index
    if peek == UInt8(ascii: ".") { try digits(after: 1) }
    if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
      let signed = index + 1 < raw.count && (raw[index + 1] == UInt8(ascii: "+") || raw[index + 1] == UInt8(ascii: "-"))
      try digits(after: signed ? 2 : 1)
    }
    return index == integerEnd
  }

  /// One digit or more, `after` bytes on.
  private mutating func digits(after: Int) throws(Failure) {
    index += after
    guard let c = peek, c &- 0x30 < 10 else { throw .syntax(offset: index) }
    while let c = peek, c &- 0x30 < 10 { index += 1 }
  }

  /// An integer literal's value, if it fits an `Int` (`-0` is 0).
  public static func integer(_ literal: UnsafeRawBufferPointer) -> Int? {
    let negative = literal.first == UInt8(ascii: "-")
    var value = 0
    for b in literal.dropFirst(negative ? 1 : 0) {
      let (times, o1) = value.multipliedReportingOverflow(by: 10)
      let (next, o2) = times.addingReportingOverflow(negative ? -Int(b &- 0x30) : Int(b &- 0x30))
      guard !o1, !o2 else { return nil }
      value = next
    }
    return literal.isEmpty ? nil : value
  }
}

extension UnsafeRawBufferPointer {
  /// Whether these bytes are `literal`'s UTF-8, byte for byte.
  @inline(__always) public func equals(_ literal: StaticString) -> Bool {
    equals(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
  }

  /// Whether these bytes are `other`'s, byte for byte.
  @inline(__always) public func equals(_ other: UnsafeRawBufferPointer) -> Bool {
    count == other.count && (count == 0 || memcmp(baseAddress!, other.baseAddress!, count) == 0)
  }
}
