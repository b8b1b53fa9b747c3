import Glibc

/// What a request asks, read in place: the bytes are the request's own or the reader's
/// scratch, valid until the reader reads again.
public enum Query {
  /// `{"action": "search", "value": Q}`: the query's UTF-8, compared as bytes as the
  /// reference's dict does.
  case search(UnsafeRawBufferPointer)
  /// Any content type but `text/json`: the content.
  case binary(UnsafeRawBufferPointer)
  /// Any action but search and stats, answered as the reference does: its name.
  case unknownAction(UnsafeRawBufferPointer)
  /// `{"action": "stats"}`: the daemon's counters, for trusted peers only.
  case stats
  /// A well-framed request refused for its content, with a reply made once.
  case refused(RequestRefusal)
  /// A well-framed request refused with words that name what it sent.
  case invalid(WireError)
}

/// The one request reader: a frame (`FrameReader`), then its content, every rule of the
/// request written once here, in the order it refuses. Allocates nothing once its buffers
/// have grown. The commonest request's shape is a cache of this reader's own result: once
/// a search's value was read in place, the bytes around it are kept, and a request that
/// repeats them exactly around a plain string is that search (see `templated`).
public struct RequestReader: Sendable {
  public enum Result {
    case incomplete
    /// A request `length` bytes long (the frame's), and what it asks.
    case request(length: Int, Query)
    /// The framing is lost: reply with the error and close.
    case failed(WireError)
  }

  public private(set) var frames: FrameReader
  private var text: [UInt8] = []
  private var keys: [UInt8] = []
  private var values: [UInt8] = []
  private var action: [UInt8] = []
  private var query: [UInt8] = []
  /// The bytes before and after the last search value read in place (empty: none yet).
  private var prefix: [UInt8] = []
  private var suffix: [UInt8] = []

  public init(limits: WireLimits = .default) { frames = FrameReader(limits: limits) }

  public var limits: WireLimits { frames.limits }

  /// The request at the start of `bytes` (a message boundary), if it is there whole.
  public mutating func next(in bytes: UnsafeRawBufferPointer) -> Result {
    switch frames.next(in: bytes) {
    case .incomplete: return .incomplete
    case .failed(let error): return .failed(error)
    case .frame(let head, let content):
      return .request(length: content.upperBound, read(head, UnsafeRawBufferPointer(rebasing: bytes[content])))
    }
  }

  private mutating func read(_ head: FrameHead, _ content: UnsafeRawBufferPointer) -> Query {
    guard head.fieldsAreStrings else {
      return .invalid(.request(.badHeader, "byteorder, content-type and content-encoding must be strings"))
    }
    guard head.isJSON else { return .binary(content) }
    let name = frames.contentEncoding
    guard let encoding = head.encoding else {
      return .invalid(
        .request(.unsupportedEncoding, "unsupported content-encoding \"\(String(decoding: name, as: UTF8.self))\""))
    }
    if encoding == .utf8, let q = templated(content) { return .search(q) }
    guard let utf8 = encoding.utf8(content, into: &text) else {
      if name.withUnsafeBytes({ $0.equals("utf-8") }) { return .refused(.notUTF8) }
      return .invalid(.request(.badJSON, "the content is not valid \(String(decoding: name, as: UTF8.self))"))
    }
    let found: Members
    do throws(JSONParser.Failure) {
      found = try Self.members(
        of: utf8, limits.maxJSONDepth, keys: &keys, values: &values, action: &action, query: &query)
    } catch .notAnObject {
      return .refused(.notAnObject)
    } catch {
      return .refused(.notJSON)
    }
    guard let isString = found.action else { return .refused(.noAction) }
    guard isString else { return .refused(.actionNotAString) }
    let asked = action.withUnsafeBytes { $0 }
    if asked.equals("stats") { return .stats }
    guard asked.equals("search") else { return .unknownAction(asked) }
    guard found.value == true else { return .refused(.searchWithoutValue) }
    guard let raw = found.valueInPlace else { return .search(query.withUnsafeBytes { $0 }) }
    if utf8.baseAddress == content.baseAddress { learn(content, value: raw) }
    return .search(UnsafeRawBufferPointer(rebasing: utf8[raw]))
  }

  /// A search whose bytes around the value are the last learned search's exactly, and
  /// whose value is a string of plain UTF-8 (no `"`, `\` or control): it parses as that
  /// search did, with this value, so the reader's result is known without the walk.
  private func templated(_ content: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
    let (p, s) = (prefix.count, suffix.count)
    guard p > 0, content.count >= p + s,
      prefix.withUnsafeBytes({ memcmp(content.baseAddress!, $0.baseAddress!, p) == 0 }),
      suffix.withUnsafeBytes({ memcmp(content.baseAddress! + content.count - s, $0.baseAddress!, s) == 0 })
    else { return nil }
    let value = UnsafeRawBufferPointer(rebasing: content[p..<(content.count - s)])
    guard JSONScan.firstSpecial(value, from: 0) == value.count, UTF8Validation.isValid(value) else { return nil }
    return value
  }

  private mutating func learn(_ content: UnsafeRawBufferPointer, value: Range<Int>) {
    prefix.removeAll(keepingCapacity: true)
    prefix.append(contentsOf: content[..<value.lowerBound])
    suffix.removeAll(keepingCapacity: true)
    suffix.append(contentsOf: content[value.upperBound...])
  }

  /// What the walk found of the members that decide, the last of each name winning as in
  /// Python's `json.loads`. nil: absent; false: not a string; true: a string.
  private struct Members {
    /// Its bytes are in `action`.
    var action: Bool?
    /// Its bytes lie at `valueInPlace` in the document, or (written with escapes) are in `query`.
    var value: Bool?
    var valueInPlace: Range<Int>?
  }

  private static func members(
    of json: UnsafeRawBufferPointer, _ maxDepth: Int, keys: inout [UInt8], values: inout [UInt8],
    action: inout [UInt8], query: inout [UInt8]
  ) throws(JSONParser.Failure) -> Members {
    var found = Members()
    try JSONParser.forEachMember(
      ofObject: json, maxDepth: maxDepth, knownUTF8: true, keyScratch: &keys, valueScratch: &values
    ) { key, value, _ in
      let isAction = key.equals("action")
      guard isAction || key.equals("value") else { return true }
      guard case .string(let s) = value else {
        if isAction { found.action = false } else { (found.value, found.valueInPlace) = (false, nil) }
        return true
      }
      if isAction {
        found.action = true
        action.removeAll(keepingCapacity: true)
        action.append(contentsOf: s)
        return true
      }
      found.value = true
      let offset = s.baseAddress.flatMap { at in json.baseAddress.map { at - $0 } } ?? -1
      if offset >= 0 && offset < json.count {
        found.valueInPlace = offset..<(offset + s.count)
      } else {
        found.valueInPlace = nil
        query.removeAll(keepingCapacity: true)
        query.append(contentsOf: s)
      }
      return true
    }
    return found
  }
}
