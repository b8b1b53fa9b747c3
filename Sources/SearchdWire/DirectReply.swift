/// The replies the common requests get, written straight into the output buffer:
/// no array is made for them. Each is byte for byte its `Reply` counterpart (the tests and
/// the fuzz target check it, and hold every fixed part below to `Reply`'s bytes).
public enum DirectReply {
  /// A result quoting the request: `No match for "Q".` or `Error: invalid action "A".`,
  /// the quoted bytes escaped as JSON writes them (`escapedLength` bytes, measured once).
  case quoting(Quote, text: UnsafeRawBufferPointer, escapedLength: Int)
  /// `First 10 bytes of request: ` and the first ten bytes of the content.
  case binary(content: UnsafeRawBufferPointer)

  /// What a `quoting` reply says around the quoted bytes.
  public enum Quote: Sendable {
    case noMatch, invalidAction

    /// The reply's content before the quoted bytes; `quoteEnd` follows them.
    fileprivate var prefix: StaticString {
      switch self {
      case .noMatch: return DirectReply.noMatchPrefix
      case .invalidAction: return DirectReply.invalidActionPrefix
      }
    }
  }

  /// The reply to a miss of `query`.
  public static func miss(query: UnsafeRawBufferPointer) -> DirectReply {
    .quoting(.noMatch, text: query, escapedLength: JSONWriter.escapedLength(query))
  }

  /// The reply to an action other than search or stats, as the reference answers it.
  public static func invalidAction(_ action: UnsafeRawBufferPointer) -> DirectReply {
    .quoting(.invalidAction, text: action, escapedLength: JSONWriter.escapedLength(action))
  }

  /// The length of a JSON reply's frame before its content: the 2-byte length and the
  /// header, which differ between replies only in the content length's digits.
  @inlinable public static func jsonHeadCount(contentLength: Int) -> Int {
    headCount(jsonHeaderHead, contentLength: contentLength)
  }

  /// The 2-byte length and a header from `headerHead` through the content length and `}`.
  @inlinable static func headCount(_ headerHead: StaticString, contentLength: Int) -> Int {
    2 + headerHead.utf8CodeUnitCount + digits(contentLength) + 1
  }

  /// A hit's reply around the escaped text the index stores: the frame's head and the
  /// content's start before it, `hitTail` after it.
  @inlinable public static func hitHeadCount(textLength: Int) -> Int {
    jsonHeadCount(contentLength: hitContentLength(textLength: textLength)) + hitPrefix.utf8CodeUnitCount
  }

  @inlinable static func hitContentLength(textLength: Int) -> Int {
    hitPrefix.utf8CodeUnitCount + textLength + hitTailLiteral.utf8CodeUnitCount
  }

  /// What follows a hit's text: the content's end.
  @inlinable public static var hitTail: UnsafeRawBufferPointer { hitTailLiteral.bytes }

  /// Writes a hit's head, `hitHeadCount` bytes, at `out`.
  public static func writeHitHead(textLength: Int, into out: UnsafeMutableRawBufferPointer) {
    var w = Writer(out: out)
    w.jsonHead(contentLength: hitContentLength(textLength: textLength))
    w.bytes(hitPrefix)
  }

  /// The reply's length.
  public var count: Int {
    switch self {
    case .quoting(let quote, _, let escaped):
      let content = quote.prefix.utf8CodeUnitCount + escaped + Self.quoteEnd.utf8CodeUnitCount
      return Self.jsonHeadCount(contentLength: content) + content
    case .binary(let c):
      let content = Self.binaryContentHead.utf8CodeUnitCount + min(c.count, 10)
      return Self.headCount(Self.binaryHeaderHead, contentLength: content) + content
    }
  }

  /// Writes the reply into `out`, which is `count` bytes long.
  public func write(into out: UnsafeMutableRawBufferPointer) {
    var w = Writer(out: out)
    switch self {
    case .quoting(let quote, let q, let escaped):
      w.jsonHead(contentLength: quote.prefix.utf8CodeUnitCount + escaped + Self.quoteEnd.utf8CodeUnitCount)
      w.bytes(quote.prefix)
      w.escaped(q, length: escaped)
      w.bytes(Self.quoteEnd)
    case .binary(let c):
      let n = min(c.count, 10)
      w.head(Self.binaryHeaderHead, contentLength: Self.binaryContentHead.utf8CodeUnitCount + n)
      w.bytes(Self.binaryContentHead)
      w.bytes(UnsafeRawBufferPointer(rebasing: c[c.startIndex..<c.startIndex + n]))
    }
    precondition(w.at == out.count, "a direct reply wrote \(w.at) bytes of \(out.count)")
  }

  // MARK: the fixed parts
  // Literals by rule 1 (docs/PERFORMANCE.md); DirectReplyTests holds each to `Reply`'s bytes.

  /// A reply's header up to its content length's digits, keys in the reference's order.
  #if _endian(big)
    @usableFromInline static let jsonHeaderHead: StaticString =
      #"{"byteorder": "big", "content-type": "text/json", "content-encoding": "utf-8", "content-length": "#
    // swift-format-ignore: LineLength
    static let binaryHeaderHead: StaticString =
      #"{"byteorder": "big", "content-type": "binary/custom-server-binary-type", "content-encoding": "binary", "content-length": "#
  #else
    @usableFromInline static let jsonHeaderHead: StaticString =
      #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": "#
    // swift-format-ignore: LineLength
    static let binaryHeaderHead: StaticString =
      #"{"byteorder": "little", "content-type": "binary/custom-server-binary-type", "content-encoding": "binary", "content-length": "#
  #endif

  /// A result's content before its text (`hitPrefix`) and after it, as JSON writes them.
  @usableFromInline static let hitPrefix: StaticString = #"{"result": ""#
  @usableFromInline static let hitTailLiteral: StaticString = #""}"#
  /// The miss and invalid-action results around the quoted bytes.
  static let noMatchPrefix: StaticString = #"{"result": "No match for \""#
  static let invalidActionPrefix: StaticString = #"{"result": "Error: invalid action \""#
  static let quoteEnd: StaticString = #"\"."}"#
  /// A binary reply's content before the echoed bytes.
  static let binaryContentHead: StaticString = "First 10 bytes of request: "

  @usableFromInline static func digits(_ n: Int) -> Int {
    var d = 1
    var v = n
    while v >= 10 {
      v /= 10
      d += 1
    }
    return d
  }

  private struct Writer {
    let out: UnsafeMutableRawBufferPointer
    var at = 0

    mutating func byte(_ b: UInt8) {
      out[at] = b
      at += 1
    }

    mutating func bytes(_ b: StaticString) { bytes(b.bytes) }

    mutating func bytes(_ b: UnsafeRawBufferPointer) {
      guard b.count > 0 else { return }
      UnsafeMutableRawBufferPointer(rebasing: out[at..<at + b.count]).copyMemory(from: b)
      at += b.count
    }

    mutating func escaped(_ text: UnsafeRawBufferPointer, length: Int) {
      guard length > 0 else { return }
      let written = JSONWriter.writeString(text, to: out.baseAddress! + at, quoted: false)
      precondition(written == length, "escaped \(written) bytes, measured \(length)")
      at += written
    }

    mutating func jsonHead(contentLength: Int) { head(DirectReply.jsonHeaderHead, contentLength: contentLength) }

    /// The 2-byte length and a header ending in `contentLength`.
    mutating func head(_ headerHead: StaticString, contentLength: Int) {
      let headerLength = DirectReply.headCount(headerHead, contentLength: contentLength) - 2
      byte(UInt8(headerLength >> 8))
      byte(UInt8(headerLength & 0xFF))
      bytes(headerHead)
      decimal(contentLength)
      byte(UInt8(ascii: "}"))
    }

    mutating func decimal(_ n: Int) {
      let d = DirectReply.digits(n)
      var v = n
      for i in stride(from: d - 1, through: 0, by: -1) {
        out[at + i] = UInt8(ascii: "0") + UInt8(v % 10)
        v /= 10
      }
      at += d
    }
  }
}

extension StaticString {
  /// The literal's UTF-8 bytes, where the binary holds them.
  @inlinable var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: utf8Start, count: utf8CodeUnitCount) }
}
