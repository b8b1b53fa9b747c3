import Glibc

/// The decoder's accelerator for the common requests, recognised straight from the read
/// buffer, allocating nothing: a complete frame with a plain header (the four keys once
/// each, ASCII strings without escapes, a decimal content-length) that is either a search
/// (`text/json`, `utf-8`, content `{"action": "search", "value": "<UTF-8, escapes
/// allowed>"}`, any key order and whitespace) or binary (any other content type). It applies the decoder's own rules (`WireLimits`' refusals, `Header.Key`,
/// `Message.jsonType`, JSON whitespace); anything else, however slightly different, gets
/// nil and `decode` decides, errors included. So it only has to be right on what it
/// accepts, which the tests and the fuzz target check against `decode`.
extension FrameDecoder {
  /// A recognised request: the frame's length and what it asks, by where its bytes lie.
  public struct PlainRequest: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
      /// A search; the query's bytes (well-formed UTF-8, no controls, `"` or `\\`).
      case search(query: Range<Int>)
      /// A search whose query is written with escapes: its bytes as written (between the
      /// quotes); the query itself, escapes resolved, is the memo's `resolvedQuery`.
      case escapedSearch(query: Range<Int>)
      /// A binary request; its content.
      case binary(content: Range<Int>)
    }
    public var frameLength: Int
    public var kind: Kind
  }

  /// The last header that passed the scan. Pipelined requests repeat their header byte
  /// for byte, and one memcmp is much cheaper than validating it again (the scan was a
  /// fifth of the daemon's CPU at 16 requests in flight). One per loop, lent to the
  /// decoder of whichever connection is being served.
  public struct HeaderMemo: Sendable {
    fileprivate var bytes: [UInt8] = []
    fileprivate var fields = PlainHeader(contentLength: 0, isJSON: false)
    /// The last escaped query the accelerator found, resolved: valid until it looks at
    /// the next request.
    fileprivate var scratch: [UInt8] = []
    public var resolvedQuery: UnsafeRawBufferPointer { scratch.withUnsafeBytes { $0 } }
    fileprivate static let capacity = 256

    public init() { bytes.reserveCapacity(Self.capacity) }

    fileprivate func matches(_ header: UnsafeRawBufferPointer) -> Bool {
      header.count == bytes.count && !bytes.isEmpty
        && bytes.withUnsafeBytes { memcmp($0.baseAddress!, header.baseAddress!, header.count) == 0 }
    }

    fileprivate mutating func remember(_ header: UnsafeRawBufferPointer, _ fields: PlainHeader) {
      guard header.count <= Self.capacity else { return }
      bytes.removeAll(keepingCapacity: true)
      bytes.append(contentsOf: header)
      self.fields = fields
    }
  }

  /// What the accelerator made of the bytes at a message boundary.
  public enum PlainOutcome: Equatable, Sendable {
    case request(PlainRequest)
    /// Not whole yet, and nothing so far says it is not plain (nor that it must be
    /// refused): wait for more bytes rather than have the full decoder take it apart.
    case incomplete
    /// For `decode` to judge, errors included.
    case other
  }

  /// The plain request at the start of `bytes` (the unread input of a decoder between
  /// messages: check `isAtBoundary` first), if one is there whole. Static, so a batch
  /// needs no access to the decoder itself (a method on a decoder stored in a
  /// connection's state copied it on every call: perf).
  public static func plainRequest(
    in bytes: UnsafeRawBufferPointer, limits: WireLimits, memo: inout HeaderMemo
  ) -> PlainRequest? {
    if case .request(let r) = plainOutcome(in: bytes, limits: limits, memo: &memo) { return r }
    return nil
  }

  /// As `plainRequest`, saying also whether an unfinished message may still be plain: a
  /// large request split over reads then waits for its last bytes here instead of going
  /// the full decoder's way (which allocates) because its first read ended mid-content.
  public static func plainOutcome(
    in bytes: UnsafeRawBufferPointer, limits: WireLimits, memo: inout HeaderMemo
  ) -> PlainOutcome {
    guard bytes.count >= 2 else { return .incomplete }
    let headerLength = Int(bytes[0]) << 8 | Int(bytes[1])
    guard limits.refusal(headerLength: headerLength) == nil else { return .other }
    guard bytes.count >= 2 + headerLength else { return .incomplete }
    let header = UnsafeRawBufferPointer(rebasing: bytes[2..<(2 + headerLength)])
    let fields: PlainHeader
    if memo.matches(header) {
      fields = memo.fields
    } else {
      var s = Scanner(bytes: bytes, index: 2, end: 2 + headerLength)
      guard let f = s.header(), s.index == s.end else { return .other }
      fields = f
      memo.remember(header, f)
    }
    guard limits.refusal(contentLength: fields.contentLength) == nil else { return .other }
    let contentStart = 2 + headerLength
    guard bytes.count - contentStart >= fields.contentLength else { return .incomplete }
    let frameLength = contentStart + fields.contentLength
    guard fields.isJSON else {
      return .request(PlainRequest(frameLength: frameLength, kind: .binary(content: contentStart..<frameLength)))
    }
    if let query = Self.tutorialContent(bytes, from: contentStart, to: frameLength) {
      return .request(PlainRequest(frameLength: frameLength, kind: .search(query: query)))
    }
    var c = Scanner(bytes: bytes, index: contentStart, end: frameLength)
    guard let (query, escaped) = c.searchContent(), c.index == c.end else { return .other }
    guard escaped else { return .request(PlainRequest(frameLength: frameLength, kind: .search(query: query))) }
    // Valid escapes only (the full decoder refuses the rest, a lone surrogate say).
    guard JSONParser.unescape(UnsafeRawBufferPointer(rebasing: bytes[query]), into: &memo.scratch) else {
      return .other
    }
    return .request(PlainRequest(frameLength: frameLength, kind: .escapedSearch(query: query)))
  }

  /// The content exactly as the tutorial's client (Python's json.dumps) writes it — one
  /// memcmp and a scan of the value instead of the general scan (perf: the scan was a
  /// tenth of the daemon's CPU at 16 requests in flight). Accepts only what the general
  /// scan accepts; anything else is left to it.
  fileprivate static func tutorialContent(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Range<Int>?
  {
    let prefix: StaticString = #"{"action": "search", "value": ""#
    let valueStart = start + prefix.utf8CodeUnitCount
    let valueEnd = end - 2
    guard valueEnd >= valueStart, bytes[valueEnd] == UInt8(ascii: "\""), bytes[valueEnd + 1] == UInt8(ascii: "}"),
      memcmp(bytes.baseAddress! + start, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
    else { return nil }
    var ascii = true
    for i in valueStart..<valueEnd {
      let b = bytes[i]
      guard b >= 0x20, b != UInt8(ascii: "\""), b != UInt8(ascii: "\\") else { return nil }
      if b >= 0x80 { ascii = false }
    }
    guard ascii || UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])) else {
      return nil
    }
    return valueStart..<valueEnd
  }

  private struct Scanner {
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
      guard range.count == literal.utf8CodeUnitCount else { return false }
      let p = literal.utf8Start
      for i in 0..<range.count where bytes[range.lowerBound + i] != p[i] { return false }
      return true
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
      var isUTF8 = false
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
          isUTF8 = equals(v, TextEncoding.utf8Name)
        } else if equals(key, Header.Key.byteorder) {
          bit = 8
          guard plainString() != nil else { return nil }
        } else {
          return nil
        }
        guard seen & bit == 0 else { return nil }
        seen |= bit
      } while take(UInt8(ascii: ","))
      guard take(UInt8(ascii: "}")), seen == 15, !isJSON || isUTF8 else { return nil }
      skipWhitespace()
      return PlainHeader(contentLength: contentLength, isJSON: isJSON)
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
}

/// What the accelerator needs of a plain header.
struct PlainHeader: Sendable {
  var contentLength: Int
  /// `text/json` (in UTF-8): a search, if its content says so; otherwise binary.
  var isJSON: Bool
}
