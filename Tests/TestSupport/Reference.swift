import SearchdWire

/// The protocol's rules as the tutorial's server applies them, written plainly (a whole
/// JSON value built, Strings compared): the oracle `RequestReader` is tested against, in
/// the differential tests and the fuzz target. Kept apart from the daemon on purpose.
public enum Reference {
  /// What a request asked, as the reader's result is compared with it.
  public enum Asked: Equatable, Sendable {
    case search([UInt8])
    case binary([UInt8])
    case unknownAction([UInt8])
    case stats
    case suggest(text: [UInt8], limit: Int, typos: Int)
    case refused(WireError)
  }

  /// What reading the start of a stream gives.
  public enum Read: Equatable, Sendable {
    case incomplete
    case request(length: Int, Asked)
    case failed(WireError)
  }

  /// The first message of `stream`, read whole by the reference rules.
  public static func read(_ stream: [UInt8], limits: WireLimits = .default) -> Read {
    guard stream.count >= 2 else { return .incomplete }
    let length = Int(stream[0]) << 8 | Int(stream[1])
    if let refusal = limits.refusal(headerLength: length) { return .failed(refusal) }
    guard stream.count >= 2 + length else { return .incomplete }
    let header: Header
    do throws(WireError) {
      header = try parseHeader(Array(stream[2..<(2 + length)]), limits: limits)
    } catch {
      return .failed(error)
    }
    let end = 2 + length + header.contentLength
    guard stream.count >= end else { return .incomplete }
    let frame = Frame(header: header, content: Array(stream[(2 + length)..<end]))
    do throws(WireError) {
      return .request(length: end, try request(frame, limits: limits))
    } catch {
      return .request(length: end, .refused(error))
    }
  }

  /// Parses and checks header bytes. Every failure here loses the framing, so all are fatal.
  public static func parseHeader(_ bytes: [UInt8], limits: WireLimits) throws(WireError) -> Header {
    let value: JSONValue
    do {
      value = try ReferenceJSON.parse(bytes, maxDepth: limits.maxJSONDepth)
    } catch .invalidUTF8 {
      throw WireError(.badHeader, "the JSON header is not valid UTF-8", closesConnection: true)
    } catch .tooDeep {
      throw WireError(.badHeader, "the JSON header nests too deep", closesConnection: true)
    } catch {
      throw WireError(.badHeader, "the JSON header is not valid JSON", closesConnection: true)
    }
    guard case .object(let members) = value else {
      throw WireError(.badHeader, "the JSON header is not an object", closesConnection: true)
    }
    var seen = Set<String>()
    for m in members where !seen.insert(m.key).inserted {
      throw WireError(.badHeader, "duplicate header \"\(m.key)\"", closesConnection: true)
    }
    for key in ["byteorder", "content-type", "content-encoding", "content-length"] where value[key] == nil {
      throw WireError(.missingHeader, "missing required header \"\(key)\"", closesConnection: true)
    }
    guard case .number(let n) = value["content-length"]!, let length = n.integer, length >= 0 else {
      throw WireError(.badContentLength, "content-length must be a non-negative integer", closesConnection: true)
    }
    if let refusal = limits.refusal(contentLength: length) { throw refusal }
    return Header(
      contentLength: length, byteorder: value["byteorder"]!.stringValue,
      contentType: value["content-type"]!.stringValue, contentEncoding: value["content-encoding"]!.stringValue)
  }

  /// Interprets a frame. Errors here keep the framing, so the connection survives them.
  public static func request(_ frame: Frame, limits: WireLimits = .default) throws(WireError) -> Asked {
    func refused(_ code: WireError.Code, _ detail: String) -> WireError {
      WireError(code, detail, closesConnection: false)
    }
    let h = frame.header
    guard let contentType = h.contentType, let encodingName = h.contentEncoding, h.byteorder != nil else {
      throw refused(.badHeader, "byteorder, content-type and content-encoding must be strings")
    }
    guard contentType == "text/json" else { return .binary(frame.content) }
    guard let encoding = ReferenceEncoding.named(encodingName) else {
      throw refused(.unsupportedEncoding, "unsupported content-encoding \"\(encodingName)\"")
    }
    guard let utf8 = ReferenceEncoding.decode(frame.content, encoding) else {
      throw refused(.badJSON, "the content is not valid \(encodingName)")
    }
    guard let value = try? ReferenceJSON.parse(utf8, maxDepth: limits.maxJSONDepth) else {
      throw refused(.badJSON, "the content is not valid JSON")
    }
    guard case .object = value else { throw refused(.badRequest, "the request is not a JSON object") }
    guard let actionValue = value["action"] else { throw refused(.badRequest, "the request has no \"action\"") }
    guard let action = actionValue.stringValue else { throw refused(.badRequest, "\"action\" must be a string") }
    if action == "suggest" { return try suggest(value) }
    guard action == "search" else { return action == "stats" ? .stats : .unknownAction(Array(action.utf8)) }
    guard let query = value["value"]?.stringValue else {
      throw refused(.badRequest, "a search needs a string \"value\"")
    }
    return .search(Array(query.utf8))
  }

  /// A suggest: a string value of at most 256 scalars, then an integer limit of 1 to 100
  /// (10 if absent), then integer typos of 0 to 2 (by the text's length if absent).
  static func suggest(_ request: JSONValue) throws(WireError) -> Asked {
    guard let text = request["value"]?.stringValue else {
      throw WireError(.badRequest, "a suggest needs a string \"value\"", closesConnection: false)
    }
    let scalars = text.unicodeScalars.count
    guard scalars <= 256 else {
      throw WireError(.badRequest, "a suggest's \"value\" is at most 256 characters", closesConnection: false)
    }
    func option(_ name: String, _ range: ClosedRange<Int>, _ absent: Int, _ code: WireError.Code) throws(WireError)
      -> Int
    {
      guard let given = request[name] else { return absent }
      guard case .number(let n) = given, let v = n.integer, range.contains(v) else {
        throw WireError(
          code, "\"\(name)\" must be an integer from \(range.lowerBound) to \(range.upperBound)",
          closesConnection: false)
      }
      return v
    }
    let limit = try option("limit", 1...100, 10, .badLimit)
    let typos = try option("typos", 0...2, scalars < 4 ? 0 : scalars < 8 ? 1 : 2, .badTypos)
    return .suggest(text: Array(text.utf8), limit: limit, typos: typos)
  }

  /// The daemon's `RequestReader` on the same bytes, in the same terms.
  public static func daemonRead(_ stream: [UInt8], reader: inout RequestReader) -> Read {
    stream.withUnsafeBytes { bytes in
      switch reader.next(in: bytes) {
      case .incomplete: return .incomplete
      case .failed: return .failed(reader.failure!)
      case .request(let length, let query):
        switch query {
        case .search(let q): return .request(length: length, .search(Array(q)))
        case .binary(let c): return .request(length: length, .binary(Array(c)))
        case .unknownAction(let a): return .request(length: length, .unknownAction(Array(a)))
        case .stats: return .request(length: length, .stats)
        case .suggest(let s):
          return .request(length: length, .suggest(text: Array(s.text), limit: s.limit, typos: s.typos))
        case .refused(let r): return .request(length: length, .refused(r.error))
        case .badEncoding(let r): return .request(length: length, .refused(r.error))
        }
      }
    }
  }
}

public struct ReferenceJSON {
  public enum Failure: Error, Equatable, Sendable {
    case invalidUTF8
    case syntax(offset: Int)
    case tooDeep
  }

  /// `maxDepth`: Python's and Foundation's limit by default, so all three agree on what
  /// nests too deep.
  public static func parse(
    _ bytes: some Collection<UInt8>, maxDepth: Int = 512
  ) throws(Failure)
    -> JSONValue
  {
    let array = Array(bytes)
    return try array.withUnsafeBufferPointer { (buf) throws(Failure) in
      var p = ReferenceJSON(bytes: buf, maxDepth: maxDepth)
      p.skipWhitespace()
      let value = try p.parseValue(depth: 0)
      p.skipWhitespace()
      guard p.index == buf.count else { throw .syntax(offset: p.index) }
      return value
    }
  }

  let bytes: UnsafeBufferPointer<UInt8>
  private let maxDepth: Int
  var index = 0

  init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
    self.bytes = bytes
    self.maxDepth = maxDepth
  }

  var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

  private mutating func skipWhitespace() {
    while index < bytes.count && [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
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
    let integer = try scanNumber()
    let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    return JSONNumber(literal: literal, isIntegerLiteral: integer)
  }

  /// Reads past a number, the longest run of the bytes a number may hold, checked whole
  /// against RFC 8259's grammar; whether it is an integer literal.
  private mutating func scanNumber() throws(Failure) -> Bool {
    let start = index
    while let c = peek, isDigit(c) || "-+.eE".utf8.contains(c) { index += 1 }
    let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    guard literal.wholeMatch(of: #/-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/#) != nil else {
      throw .syntax(offset: start)
    }
    return literal.wholeMatch(of: #/-?(0|[1-9][0-9]*)/#) != nil
  }

  private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
}

extension ReferenceJSON {
  /// A string, escapes resolved, checked to be UTF-8: byte by byte, no shortcuts. Runs
  /// of `\uXXXX` are UTF-16 code units, validated by the standard library's decoder.
  mutating func parseString() throws(Failure) -> String {
    index += 1
    var out: [UInt8] = []
    var units: [UInt16] = []
    func flush() throws(Failure) {
      guard !units.isEmpty else { return }
      guard let s = String(validating: units, as: UTF16.self) else { throw .syntax(offset: index) }
      out += Array(s.utf8)
      units = []
    }
    while index < bytes.count {
      let c = bytes[index]
      index += 1
      if c == UInt8(ascii: "\\"), index < bytes.count, bytes[index] == UInt8(ascii: "u") {
        guard index + 5 <= bytes.count,
          let unit = UInt16(String(decoding: bytes[(index + 1)..<(index + 5)], as: UTF8.self), radix: 16),
          bytes[(index + 1)..<(index + 5)].allSatisfy({ isHex($0) })
        else { throw .syntax(offset: index) }
        units.append(unit)
        index += 5
        continue
      }
      try flush()
      switch c {
      case UInt8(ascii: "\""):
        guard let s = String(validating: out, as: UTF8.self) else { throw .invalidUTF8 }
        return s
      case UInt8(ascii: "\\"):
        guard index < bytes.count,
          let e = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F,
            UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D,
            UInt8(ascii: "t"): 0x09,
          ][bytes[index]] as UInt8?
        else { throw .syntax(offset: index) }
        out.append(e)
        index += 1
      default:
        if c < 0x20 { throw .syntax(offset: index - 1) }
        out.append(c)
      }
    }
    throw .syntax(offset: index)
  }

  private func isHex(_ c: UInt8) -> Bool { isDigit(c) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(c | 0x20) }
}

/// A parsed JSON value. Objects keep their members in order, duplicates included,
/// so each caller decides what a duplicate key means (the header rejects them).
public indirect enum JSONValue: Equatable, Sendable {
  case object([JSONMember])
  case array([JSONValue])
  case string(String)
  case number(JSONNumber)
  case bool(Bool)
  case null

  /// The last member named `key`, as Python's `json.loads` keeps it.
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.last { $0.key == key }?.value
  }

  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }
}

public struct JSONMember: Equatable, Sendable {
  public let key: String
  public let value: JSONValue
  public init(key: String, value: JSONValue) {
    self.key = key
    self.value = value
  }
}

/// A number as written, so integer-only fields can refuse `1e3` and `10.0`
/// (which Foundation's parsers turn into integers).
public struct JSONNumber: Equatable, Sendable {
  public let literal: String
  public let isIntegerLiteral: Bool

  /// The value if the literal is a plain integer that fits in an `Int`.
  public var integer: Int? { isIntegerLiteral ? Int(literal) : nil }
  public var double: Double? { Double(literal) }
}

/// The oracle's own table of encoding names (Python's normalisation), and its own decoding.
enum ReferenceEncoding {
  /// Python normalises codec names: case, `-`/`_`/space all alike.
  static func named(_ name: String) -> TextEncoding? {
    let n = String(name.lowercased().map { $0 == "_" || $0 == " " ? "-" : $0 })
    switch n {
    case "utf-8", "utf8", "u8", "utf", "cp65001": return .utf8
    case "utf-8-sig", "utf8-sig": return .utf8WithSignature
    case "utf-16", "utf16", "u16": return .utf16(bigEndian: nil)
    case "utf-16-le", "utf-16le", "utf16le": return .utf16(bigEndian: false)
    case "utf-16-be", "utf-16be", "utf16be": return .utf16(bigEndian: true)
    case "utf-32", "utf32", "u32": return .utf32(bigEndian: nil)
    case "utf-32-le", "utf-32le", "utf32le": return .utf32(bigEndian: false)
    case "utf-32-be", "utf-32be", "utf32be": return .utf32(bigEndian: true)
    case "ascii", "us-ascii", "646": return .ascii
    case "latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1", "8859", "cp819": return .latin1
    default: return nil
    }
  }

  /// The content as UTF-8, or nil if it is not valid in this encoding.
  static func decode(_ bytes: [UInt8], _ encoding: TextEncoding) -> [UInt8]? {
    switch encoding {
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
    case .utf16(let named): return units(bytes, width: 2, named: named).flatMap(utf16)
    case .utf32(let named): return units(bytes, width: 4, named: named).flatMap(utf32)
    }
  }

  /// The code units, after a byte-order mark (which decides the order where the name does
  /// not; without either, little-endian).
  private static func units(_ bytes: [UInt8], width: Int, named: Bool?) -> [UInt32]? {
    guard bytes.count % width == 0 else { return nil }
    let swap = { (u: UInt32) in width == 2 ? UInt32(UInt16(u).byteSwapped) : u.byteSwapped }
    let units = stride(from: 0, to: bytes.count, by: width).map { i in
      bytes[i..<(i + width)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }
    if let named { return named ? units.map(swap) : units }
    guard let first = units.first else { return units }
    if first == 0xFEFF { return Array(units.dropFirst()) }
    return swap(first) == 0xFEFF ? units.dropFirst().map(swap) : units
  }

  /// Surrogates paired by the oracle's own code, apart from the daemon's decoder.
  private static func utf16(_ units: [UInt32]) -> [UInt8]? {
    var scalars: [UInt32] = []
    var i = 0
    while i < units.count {
      let u = units[i]
      i += 1
      if (0xDC00...0xDFFF).contains(u) { return nil }
      guard (0xD800...0xDBFF).contains(u) else {
        scalars.append(u)
        continue
      }
      guard i < units.count, (0xDC00...0xDFFF).contains(units[i]) else { return nil }
      scalars.append(0x10000 + ((u - 0xD800) << 10) + (units[i] - 0xDC00))
      i += 1
    }
    return utf32(scalars)
  }

  private static func utf32(_ scalars: [UInt32]) -> [UInt8]? {
    var out: [UInt8] = []
    for s in scalars {
      guard let scalar = Unicode.Scalar(s) else { return nil }
      out.append(contentsOf: String(Character(scalar)).utf8)
    }
    return out
  }

}
