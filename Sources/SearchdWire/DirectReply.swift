/// The replies the accelerator's requests get, written straight into the output buffer:
/// no array is made for them. Each is byte for byte its `Reply` counterpart (the tests and
/// the fuzz target check it); the fixed parts are taken from `Reply` once, so the two
/// cannot drift apart.
public enum DirectReply {
  /// A result quoting the request: `No match for "Q".` or `Error: invalid action "A".`,
  /// the quoted bytes escaped as JSON writes them (`escapedLength` bytes, measured once).
  case quoting(Quote, text: UnsafeRawBufferPointer, escapedLength: Int)
  /// `First 10 bytes of request: ` and the first ten bytes of the content.
  case binary(content: UnsafeRawBufferPointer)

  /// What a `quoting` reply says around the quoted bytes.
  public enum Quote: Sendable {
    case noMatch, invalidAction

    /// The reply's content before and after the quoted bytes, from `Reply`.
    fileprivate var around: (prefix: [UInt8], suffix: [UInt8]) {
      switch self {
      case .noMatch: return DirectReply.noMatchAround
      case .invalidAction: return DirectReply.invalidActionAround
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
    2 + jsonHeaderHead.count + digits(contentLength) + 1
  }

  /// A hit's reply around the escaped text the index stores: the frame's head and the
  /// content's start before it, `hitTail` after it.
  @inlinable public static func hitHeadCount(textLength: Int) -> Int {
    jsonHeadCount(contentLength: hitContentLength(textLength: textLength)) + Reply.resultContentAround.prefix.count
  }

  @inlinable static func hitContentLength(textLength: Int) -> Int {
    Reply.resultContentAround.prefix.count + textLength + hitTail.count
  }

  public static let hitTail = Reply.resultContentAround.suffix

  /// Writes a hit's head, `hitHeadCount` bytes, at `out`.
  public static func writeHitHead(textLength: Int, into out: UnsafeMutableRawBufferPointer) {
    var w = Writer(out: out)
    w.jsonHead(contentLength: hitContentLength(textLength: textLength))
    w.bytes(Reply.resultContentAround.prefix)
  }

  /// The reply's length.
  public var count: Int {
    switch self {
    case .quoting(let quote, _, let escaped):
      let around = quote.around
      let content = around.prefix.count + escaped + around.suffix.count
      return Self.jsonHeadCount(contentLength: content) + content
    case .binary(let c):
      return Self.binaryHeads[min(c.count, 10)].count + min(c.count, 10)
    }
  }

  /// Writes the reply into `out`, which is `count` bytes long.
  public func write(into out: UnsafeMutableRawBufferPointer) {
    var w = Writer(out: out)
    switch self {
    case .quoting(let quote, let q, let escaped):
      let around = quote.around
      w.jsonHead(contentLength: around.prefix.count + escaped + around.suffix.count)
      w.bytes(around.prefix)
      w.escaped(q, length: escaped)
      w.bytes(around.suffix)
    case .binary(let c):
      let n = min(c.count, 10)
      w.bytes(Self.binaryHeads[n])
      w.bytes(UnsafeRawBufferPointer(rebasing: c[c.startIndex..<c.startIndex + n]))
    }
    precondition(w.at == out.count, "a direct reply wrote \(w.at) bytes of \(out.count)")
  }

  // MARK: the fixed parts, from Reply

  /// A JSON reply's header up to its content length's digits.
  @usableFromInline static let jsonHeaderHead: [UInt8] = {
    let h = Message.header(contentType: Message.jsonType, contentEncoding: "utf-8", contentLength: 0)
    return Array(h.dropLast(2))  // "0}"
  }()

  /// The miss reply's content around the query.
  fileprivate static let noMatchAround = around(Reply.noMatch(query: [UInt8(ascii: "Q")]))
  /// The invalid-action reply's content around the action.
  fileprivate static let invalidActionAround = around(Reply.invalidAction("Q"))

  /// A reply quoting `Q`: its content (after the 2-byte length and the header) split
  /// around the `Q`.
  private static func around(_ reply: [UInt8]) -> (prefix: [UInt8], suffix: [UInt8]) {
    let content = Array(reply.dropFirst(2 + (Int(reply[0]) << 8 | Int(reply[1]))))
    let at = content.firstIndex(of: UInt8(ascii: "Q"))!
    return (Array(content[..<at]), Array(content[(at + 1)...]))
  }

  /// The binary reply before its echoed bytes, for each count of them (0 to 10).
  private static let binaryHeads: [[UInt8]] = (0...10).map { n in
    Array(Reply.binary(echoing: [UInt8](repeating: 0, count: n)).dropLast(n))
  }

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

    mutating func bytes(_ b: [UInt8]) { b.withUnsafeBytes { bytes($0) } }

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

    mutating func jsonHead(contentLength: Int) {
      let headerLength = DirectReply.jsonHeaderHead.count + DirectReply.digits(contentLength) + 1
      byte(UInt8(headerLength >> 8))
      byte(UInt8(headerLength & 0xFF))
      bytes(DirectReply.jsonHeaderHead)
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
