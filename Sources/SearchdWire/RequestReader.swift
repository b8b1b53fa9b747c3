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
  /// `{"action": "suggest", "value": TEXT, …}`: the keys the text probably meant.
  case suggest(SuggestRequest)
  /// A well-framed request refused for its content, with a reply made once.
  case refused(RequestRefusal)
  /// A well-framed request refused for its content-encoding, in words that name it.
  case badEncoding(EncodingRefusal)
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
    /// The framing is lost: reply with `failure` and close.
    case failed
  }

  public private(set) var frames: FrameReader
  private var text: [UInt8] = []
  private var keys: [UInt8] = []
  private var values: [UInt8] = []
  private var action: [UInt8] = []
  private var query: [UInt8] = []
  /// The bytes before and after the last search value read in place, one after the
  /// other (empty: none yet).
  private var shape: [UInt8] = []
  private var prefixCount = 0

  public init(limits: WireLimits = .default) { frames = FrameReader(limits: limits) }

  public var limits: WireLimits { frames.limits }
  /// Why the last read failed, if it did.
  public var failure: WireError? { frames.failure }

  /// The request at the start of `bytes` (a message boundary), if it is there whole.
  // The layers inlined into one function: a call and a result copied per layer were a
  // tenth of a pipelined hit's instructions (rule 2, docs/PERFORMANCE.md).
  public mutating func next(in bytes: UnsafeRawBufferPointer) -> Result {
    switch frames.next(in: bytes) {
    case .incomplete: return .incomplete
    case .failed: return .failed
    case .frame(let head, let content):
      return .request(length: content.upperBound, read(head, UnsafeRawBufferPointer(rebasing: bytes[content])))
    }
  }

  @inline(__always) private mutating func read(_ head: FrameHead, _ content: UnsafeRawBufferPointer) -> Query {
    guard head.fieldsAreStrings else {
      return .refused(.fieldsNotStrings)
    }
    guard head.isJSON else { return .binary(content) }
    if head.encoding == .utf8, let q = templated(content) { return .search(q) }
    let name = frames.contentEncoding.withUnsafeBytes { $0 }
    guard let encoding = head.encoding else { return .badEncoding(EncodingRefusal(unsupported: true, name: name)) }
    guard let utf8 = encoding.utf8(content, into: &text) else {
      if name.equals(RequestRefusal.utf8Name) { return .refused(.notUTF8) }
      return .badEncoding(EncodingRefusal(unsupported: false, name: name))
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
    if asked.equals("suggest") { return suggest(found, utf8) }
    guard asked.equals("search") else { return .unknownAction(asked) }
    guard found.value == true else { return .refused(.searchWithoutValue) }
    guard let raw = found.valueInPlace else { return .search(query.withUnsafeBytes { $0 }) }
    if utf8.baseAddress == content.baseAddress { learn(content, value: raw) }
    return .search(UnsafeRawBufferPointer(rebasing: utf8[raw]))
  }

  /// A suggest's options checked in the order they are refused: value, limit, typos.
  private func suggest(_ found: Members, _ utf8: UnsafeRawBufferPointer) -> Query {
    guard found.value == true else { return .refused(.suggestWithoutValue) }
    let text = found.valueInPlace.map { UnsafeRawBufferPointer(rebasing: utf8[$0]) } ?? query.withUnsafeBytes { $0 }
    let scalars = SuggestRequest.scalarCount(text)
    guard scalars <= SuggestRequest.maxTextScalars else { return .refused(.suggestTextTooLong) }
    var request = SuggestRequest(
      text: text, limit: SuggestRequest.defaultLimit, typos: SuggestRequest.defaultTypos(scalars: scalars))
    switch found.limit {
    case .absent: break
    case .integer(let n) where SuggestRequest.limits.contains(n): request.limit = n
    default: return .refused(.badLimit)
    }
    switch found.typos {
    case .absent: break
    case .integer(let n) where SuggestRequest.typoRange.contains(n): request.typos = n
    default: return .refused(.badTypos)
    }
    return .suggest(request)
  }

  /// A search whose bytes around the value are the last learned search's exactly, and
  /// whose value is a string of plain UTF-8 (no `"`, `\` or control): it parses as that
  /// search did, with this value, so the reader's result is known without the walk.
  @inline(__always) private mutating func templated(_ content: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
    let p = prefixCount
    let s = shape.count - p
    guard p > 0, content.count >= p + s else { return nil }
    let matches = shape.withUnsafeBytes { shape in
      // The suffix is a few bytes (`"}`): compared in line, the prefix with one memcmp.
      for i in 0..<s where content[content.count - s + i] != shape[p + i] { return false }
      return memcmp(content.baseAddress!, shape.baseAddress!, p) == 0
    }
    guard matches else { return nil }
    let value = UnsafeRawBufferPointer(rebasing: content[p..<(content.count - s)])
    // One pass for the specials, the UTF-8 check only for a value that is not ASCII: most are.
    var ascii = true
    for b in value {
      guard b >= 0x20, b != UInt8(ascii: "\""), b != UInt8(ascii: "\\") else { return nil }
      if b >= 0x80 { ascii = false }
    }
    guard ascii || UTF8Validation.isValid(value) else { return nil }
    return value
  }

  private mutating func learn(_ content: UnsafeRawBufferPointer, value: Range<Int>) {
    shape.removeAll(keepingCapacity: true)
    shape.append(contentsOf: content[..<value.lowerBound])
    shape.append(contentsOf: content[value.upperBound...])
    prefixCount = value.lowerBound
  }

  /// What the walk found of the members that decide, the last of each name winning as in
  /// Python's `json.loads`. nil: absent; false: not a string; true: a string.
  private struct Members {
    /// Its bytes are in `action`.
    var action: Bool?
    /// Its bytes lie at `valueInPlace` in the document, or (written with escapes) are in `query`.
    var value: Bool?
    var valueInPlace: Range<Int>?
    var limit = Option.absent
    var typos = Option.absent
  }

  /// A suggest's integer option.
  private enum Option {
    case absent
    case integer(Int)
    /// Present, and not an integer that fits.
    case other
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
      guard isAction || key.equals("value") else {
        let isLimit = key.equals("limit")
        guard isLimit || key.equals("typos") else { return true }
        var option = Option.other
        if case .number(let literal, isInteger: true) = value, let n = JSONParser.integer(literal) {
          option = .integer(n)
        }
        if isLimit { found.limit = option } else { found.typos = option }
        return true
      }
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
