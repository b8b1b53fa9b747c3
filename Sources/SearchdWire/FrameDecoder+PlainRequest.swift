import Glibc

/// The decoder's accelerator for the common requests, recognised straight from the read
/// buffer, allocating nothing: a complete frame with a plain header (the four keys once
/// each, ASCII strings without escapes, a decimal content-length) that is either a search
/// (`text/json`, `utf-8`, content `{"action": "search", "value": "<UTF-8, escapes
/// allowed>"}`, any key order and whitespace; or the same in `utf-16` or `utf-32`,
/// transcoded into a reused buffer) or binary (any other content type). It applies the decoder's own rules (`WireLimits`' refusals, `Header.Key`,
/// `Message.jsonType`, JSON whitespace); anything else, however slightly different, gets
/// nil and `decode` decides, errors included. So it only has to be right on what it
/// accepts, which the tests and the fuzz target check against `decode`.
extension FrameDecoder {
  /// A recognised request: the frame's length and what it asks, by where its bytes lie.
  public struct PlainRequest: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
      /// A search; the query's bytes (well-formed UTF-8, no controls, `"` or `\\`).
      case search(query: Range<Int>)
      /// A binary request; its content.
      case binary(content: Range<Int>)
      /// A search whose query is not in the input as it is asked (written with escapes, in
      /// UTF-16 or UTF-32, or found by the general reader): the query, in UTF-8 with its
      /// escapes resolved, is the memo's `resolvedQuery`.
      case resolvedSearch
      /// An action other than search and stats, answered as the reference does (`Error:
      /// invalid action "A".`): its name is the memo's `resolvedAction`.
      case resolvedUnknownAction
      /// A well-framed request refused for its content, whose reply is the refusal's.
      case refused(RequestRefusal)
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
    fileprivate var fields = PlainHeader(contentLength: 0, isJSON: false, encoding: .utf8)
    /// The last escaped or transcoded query the accelerator found, resolved: valid until
    /// it looks at the next request.
    var scratch: [UInt8] = []
    /// The last action name the general reader found.
    var action: [UInt8] = []
    public var resolvedAction: UnsafeRawBufferPointer { action.withUnsafeBytes { $0 } }
    /// The general reader's: the last UTF-16 or UTF-32 content in UTF-8, and room for keys
    /// and values read; reused, so they allocate only to grow.
    var transcoded: [UInt8] = []
    var keys: [UInt8] = []
    var values: [UInt8] = []
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
  /// messages: check `isAtBoundary` first), if one is there whole. Static by rule 2
  /// (docs/PERFORMANCE.md): a method copied the decoder on every call.
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
      var s = PlainScanner(bytes: bytes, index: 2, end: 2 + headerLength)
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
    let content = UnsafeRawBufferPointer(rebasing: bytes[contentStart..<frameLength])
    guard fields.encoding == .utf8 else {
      return transcoded(content, fields.encoding, frameLength: frameLength, limits: limits, memo: &memo)
    }
    if let query = Self.tutorialContent(bytes, from: contentStart, to: frameLength) {
      return .request(PlainRequest(frameLength: frameLength, kind: .search(query: query)))
    }
    var c = PlainScanner(bytes: bytes, index: contentStart, end: frameLength)
    // Whole, and its escapes valid (a lone surrogate, say, is the general reader's to refuse).
    if let (query, escaped) = c.searchContent(), c.index == c.end {
      guard escaped else { return .request(PlainRequest(frameLength: frameLength, kind: .search(query: query))) }
      if JSONParser.unescape(UnsafeRawBufferPointer(rebasing: bytes[query]), into: &memo.scratch) {
        return .request(PlainRequest(frameLength: frameLength, kind: .resolvedSearch))
      }
    }
    return read(content, checked: false, frameLength: frameLength, limits: limits, memo: &memo)
  }

  /// The content exactly as the tutorial's client (Python's json.dumps) writes it — one
  /// memcmp and a scan of the value (rule 7, docs/PERFORMANCE.md). Accepts only what the
  /// general scan accepts; anything else is left to it.
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
}
