/// The fixed bytes of one kind of reply around what varies in it, cut from `Reply`'s own
/// bytes (the one definition of every reply), so the direct writer copies nothing by hand.
// Unchecked: it points into memory written once and never freed or changed.
public struct ReplyShape: @unchecked Sendable {
  /// The header up to its content length's digits; `}` follows them.
  public let head: UnsafeRawBufferPointer
  /// The content before and after the varying bytes.
  public let prefix: UnsafeRawBufferPointer
  public let suffix: UnsafeRawBufferPointer

  /// The reply's length around `varying` bytes of content.
  @inline(__always) public func count(varying: Int) -> Int {
    frameLength(content: prefix.count + varying + suffix.count)
  }

  /// A message's length with this header and `content` bytes of content.
  @inline(__always) public func frameLength(content: Int) -> Int {
    2 + head.count + DirectReply.digits(content) + 1 + content
  }

  /// Writes the frame's length, the header and the content's prefix; returns where the
  /// varying bytes go.
  @inline(__always) public func writeHead(varying: Int, into out: UnsafeMutableRawBufferPointer) -> Int {
    copy(prefix, to: out, at: writeFrameHead(content: prefix.count + varying + suffix.count, into: out))
  }

  /// Writes the frame's length and the header for `content` bytes; returns where the
  /// content goes.
  @inline(__always) public func writeFrameHead(content: Int, into out: UnsafeMutableRawBufferPointer) -> Int {
    let digits = DirectReply.digits(content)
    let headerLength = head.count + digits + 1
    out[0] = UInt8(headerLength >> 8)
    out[1] = UInt8(headerLength & 0xFF)
    var at = 2
    at = copy(head, to: out, at: at)
    var v = content
    for i in stride(from: digits - 1, through: 0, by: -1) {
      out[at + i] = UInt8(ascii: "0") + UInt8(v % 10)
      v /= 10
    }
    out[at + digits] = UInt8(ascii: "}")
    return at + digits + 1
  }

  /// Copies `b` to `out` at `at`; returns where it ends.
  @inline(__always) public func copy(_ b: UnsafeRawBufferPointer, to out: UnsafeMutableRawBufferPointer, at: Int) -> Int
  {
    if b.count > 0 { (out.baseAddress! + at).copyMemory(from: b.baseAddress!, byteCount: b.count) }
    return at + b.count
  }
}

/// The shapes of the replies written straight into the output, cut once from `Reply` into
/// memory kept for the life of the process. A loop's output queues hold this pointer, so
/// the request path reads no lazily made global (rule 1, docs/PERFORMANCE.md).
// Unchecked: as `ReplyShape`, immutable and never freed.
public struct ReplyShapes: @unchecked Sendable {
  public struct Table: @unchecked Sendable {
    public let result: ReplyShape
    public let noMatch: ReplyShape
    public let invalidAction: ReplyShape
    public let binary: ReplyShape
  }

  public let table: UnsafePointer<Table>

  /// Made once, at the first output queue.
  public static let shared = ReplyShapes()

  private init() {
    // Each reply made with a marker where its varying bytes go, and cut around it.
    let marker = Array("\u{1}MARK\u{1}".utf8)
    let escapedMarker = Array(#"\u0001MARK\u0001"#.utf8)
    func cut(_ reply: [UInt8], _ varying: [UInt8]) -> (head: [UInt8], prefix: [UInt8], suffix: [UInt8]) {
      let headerEnd = 2 + (Int(reply[0]) << 8 | Int(reply[1]))
      let header = Array(reply[2..<headerEnd])
      let content = Array(reply[headerEnd...])
      // The content length is the header's last member: cut its digits and `}` off.
      let digits = String(content.count).utf8.count
      precondition(
        header.suffix(digits + 1) == Array("\(content.count)}".utf8), "a reply header must end in its content length")
      let at = (0...(content.count - varying.count)).first { Array(content[$0..<($0 + varying.count)]) == varying }!
      return (Array(header.dropLast(digits + 1)), Array(content[..<at]), Array(content[(at + varying.count)...]))
    }
    let parts = [
      cut(Reply.result(String(decoding: marker, as: UTF8.self)), escapedMarker),
      cut(Reply.noMatch(query: marker), escapedMarker),
      cut(Reply.invalidAction(String(decoding: marker, as: UTF8.self)), escapedMarker),
      cut(Reply.binary(echoing: Array(marker.prefix(10))), Array(marker.prefix(10))),
    ]
    let bytes = parts.flatMap { $0.head + $0.prefix + $0.suffix }
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
    storage.copyBytes(from: bytes)
    var at = 0
    func take(_ n: Int) -> UnsafeRawBufferPointer {
      defer { at += n }
      return UnsafeRawBufferPointer(rebasing: storage[at..<(at + n)])
    }
    let shapes = parts.map {
      ReplyShape(head: take($0.head.count), prefix: take($0.prefix.count), suffix: take($0.suffix.count))
    }
    let table = UnsafeMutablePointer<Table>.allocate(capacity: 1)
    table.initialize(to: Table(result: shapes[0], noMatch: shapes[1], invalidAction: shapes[2], binary: shapes[3]))
    self.table = UnsafePointer(table)
  }
}

/// The replies the common requests get, written straight into the output buffer in the
/// shapes `Reply` defines: no array is made for them.
public enum DirectReply {
  /// A result quoting the request: `No match for "Q".` or `Error: invalid action "A".`,
  /// the quoted bytes escaped as JSON writes them (`escapedLength` bytes, measured once).
  case quoting(Quote, text: UnsafeRawBufferPointer, escapedLength: Int)
  /// `First 10 bytes of request: ` and the first ten bytes of the content.
  case binary(content: UnsafeRawBufferPointer)
  /// A whole reply written in the loop's scratch (a suggest's), valid until its next request.
  case prepared(UnsafeRawBufferPointer)

  /// What a `quoting` reply says around the quoted bytes.
  public enum Quote: Sendable {
    case noMatch, invalidAction
  }

  /// The reply to a miss of `query`.
  public static func miss(query: UnsafeRawBufferPointer) -> DirectReply {
    .quoting(.noMatch, text: query, escapedLength: JSONWriter.escapedLength(query))
  }

  /// The reply to an action other than search or stats, as the reference answers it.
  public static func invalidAction(_ action: UnsafeRawBufferPointer) -> DirectReply {
    .quoting(.invalidAction, text: action, escapedLength: JSONWriter.escapedLength(action))
  }

  @inline(__always) func shape(_ shapes: ReplyShapes) -> ReplyShape {
    switch self {
    case .quoting(.noMatch, _, _): return shapes.table.pointee.noMatch
    case .quoting(.invalidAction, _, _): return shapes.table.pointee.invalidAction
    case .binary, .prepared: return shapes.table.pointee.binary
    }
  }

  /// The reply's length.
  @inline(__always) public func count(_ shapes: ReplyShapes) -> Int {
    switch self {
    case .quoting(_, _, let escaped): return shape(shapes).count(varying: escaped)
    case .binary(let c): return shape(shapes).count(varying: min(c.count, 10))
    case .prepared(let bytes): return bytes.count
    }
  }

  /// Writes the reply into `out`, which is `count` bytes long.
  public func write(into out: UnsafeMutableRawBufferPointer, _ shapes: ReplyShapes) {
    let shape = shape(shapes)
    switch self {
    case .quoting(_, let q, let escaped):
      var at = shape.writeHead(varying: escaped, into: out)
      if escaped > 0 {
        let written = JSONWriter.writeString(q, to: out.baseAddress! + at, quoted: false)
        precondition(written == escaped, "escaped \(written) bytes, measured \(escaped)")
        at += written
      }
      at = shape.copy(shape.suffix, to: out, at: at)
      precondition(at == out.count, "a direct reply wrote \(at) bytes of \(out.count)")
    case .binary(let c):
      let n = min(c.count, 10)
      var at = shape.writeHead(varying: n, into: out)
      at = shape.copy(UnsafeRawBufferPointer(rebasing: c[c.startIndex..<c.startIndex + n]), to: out, at: at)
      _ = shape.copy(shape.suffix, to: out, at: at)
    case .prepared(let bytes): _ = shape.copy(bytes, to: out, at: 0)
    }
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
}
