import Glibc

/// The one JSON grammar searchd reads (strict RFC 8259 over UTF-8, with a nesting limit):
/// a top-level object walked member by member in place, building nothing. The frame
/// header, the request content and JSON index files are all read through it.
public struct JSONParser {
  public enum Failure: Error, Equatable, Sendable {
    case invalidUTF8
    case syntax(offset: Int)
    case tooDeep
    /// The document is valid JSON but not an object.
    case notAnObject
  }

  /// A member's value as the walk saw it: a string's UTF-8 (escapes resolved), a number's
  /// literal, or anything else (checked, then skipped). Valid during the callback only.
  public enum Member {
    case string(UnsafeRawBufferPointer)
    case number(literal: UnsafeRawBufferPointer, isInteger: Bool)
    case other
  }

  /// A top-level object of string values, for documents of millions of members (an index):
  /// `body` gets each key, its value (nil when not a string) and the offset read up to; it
  /// returns false to stop.
  public static func forEachMember(
    ofObject raw: UnsafeRawBufferPointer,
    _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?, _ offset: Int) -> Bool
  ) throws(Failure) {
    var keyScratch: [UInt8] = []
    var valueScratch: [UInt8] = []
    try forEachMember(
      ofObject: raw, maxDepth: WireLimits.default.maxJSONDepth, keyScratch: &keyScratch, valueScratch: &valueScratch
    ) { key, value, offset in
      if case .string(let s) = value { return body(key, s, offset) }
      return body(key, nil, offset)
    }
  }

  /// The walk, nesting at most `maxDepth` deep, with scratch buffers the caller keeps (so a
  /// reader of many documents allocates nothing once they have grown). `knownUTF8`: the
  /// whole document is known to be UTF-8, so strings are not checked one by one. A document
  /// that is not an object is read whole first: bad JSON is `syntax`, good JSON `notAnObject`.
  public static func forEachMember(
    ofObject raw: UnsafeRawBufferPointer, maxDepth: Int, knownUTF8: Bool = false, keyScratch: inout [UInt8],
    valueScratch: inout [UInt8], _ body: (_ key: UnsafeRawBufferPointer, _ value: Member, _ offset: Int) -> Bool
  ) throws(Failure) {
    let bytes = UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count)
    var p = JSONParser(bytes: bytes, maxDepth: maxDepth, knownUTF8: knownUTF8)
    p.skipWhitespace()
    guard p.peek == UInt8(ascii: "{") else {
      if p.index == bytes.count { throw .syntax(offset: p.index) }
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
        let start = p.index
        let value: Member
        switch p.peek ?? 0 {
        case UInt8(ascii: "\""): value = .string(try p.parseStringBytes(scratch: &valueScratch))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
          let isInteger = try p.scanNumber()
          value = .number(literal: UnsafeRawBufferPointer(rebasing: raw[start..<p.index]), isInteger: isInteger)
        default:
          try p.skipValue(depth: 1, scratch: &valueScratch)
          value = .other
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

  /// Checks one value, building nothing (a string's escapes are resolved into `scratch`).
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

  /// An integer literal's value, if it fits an `Int` (`-0` is 0).
  public static func integer(_ literal: UnsafeRawBufferPointer) -> Int? {
    guard !literal.isEmpty else { return nil }
    let negative = literal[0] == UInt8(ascii: "-")
    var value = 0
    for b in literal.dropFirst(negative ? 1 : 0) {
      let (times, o1) = value.multipliedReportingOverflow(by: 10)
      let (next, o2) =
        negative ? times.subtractingReportingOverflow(Int(b &- 48)) : times.addingReportingOverflow(Int(b &- 48))
      guard !o1, !o2 else { return nil }
      value = next
    }
    return value
  }
}

extension UInt8 {
  /// RFC 8259's four whitespace bytes, for every reader of JSON here.
  @inlinable public var isJSONWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}

extension UnsafeRawBufferPointer {
  /// Whether these bytes are `literal`'s UTF-8, byte for byte.
  @inline(__always) public func equals(_ literal: StaticString) -> Bool {
    count == literal.utf8CodeUnitCount && (count == 0 || memcmp(baseAddress!, literal.utf8Start, count) == 0)
  }

  /// Whether these bytes are `other`'s, byte for byte.
  @inline(__always) public func equals(_ other: UnsafeRawBufferPointer) -> Bool {
    count == other.count && (count == 0 || memcmp(baseAddress!, other.baseAddress!, count) == 0)
  }
}
