import Glibc

/// What a request asks, read in place: its bytes are valid until the reader reads again.
public enum Query {
  /// `{"action": "search", "value": Q}`: the query's UTF-8, compared as bytes (as the reference's dict).
  case search(UnsafeRawBufferPointer)
  /// Any content type but `text/json`: the content.
  case binary(UnsafeRawBufferPointer)
  /// Any action but search, suggest and stats, answered as the reference does: its name.
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

/// The one request reader: a frame (`FrameReader`), then its content, each rule once, in the
/// order it refuses. The commonest request's shape is a cache of its own result (`templated`).
public struct RequestReader: Sendable {
  public enum Result {
    case incomplete
    /// A request `length` bytes long (the frame's), and what it asks.
    case request(length: Int, Query)
    /// The framing is lost: reply with `failure` and close.
    case failed
  }

  public private(set) var frames: FrameReader
  private var members = MemberReader()
  private var text: [UInt8] = []
  /// The bytes before and after the last search value read in place (empty: none yet).
  private var shape: [UInt8] = []
  private var prefixCount = 0

  public init(limits: WireLimits = .default) { frames = FrameReader(limits: limits) }

  public var limits: WireLimits { frames.limits }
  public var failure: WireError? { frames.failure }

  /// The request at the start of `bytes` (a message boundary), if it is there whole.
  // One function with the layers inlined: rule 2, docs/PERFORMANCE.md.
  public mutating func next(in bytes: UnsafeRawBufferPointer) -> Result {
    switch frames.next(in: bytes) {
    case .incomplete: return .incomplete
    case .failed: return .failed
    case .frame(let head, let content):
      return .request(length: content.upperBound, read(head, UnsafeRawBufferPointer(rebasing: bytes[content])))
    }
  }

  @inline(__always) private mutating func read(_ head: FrameHead, _ content: UnsafeRawBufferPointer) -> Query {
    guard head.fieldsAreStrings else { return .refused(.fieldsNotStrings) }
    guard head.isJSON else { return .binary(content) }
    if head.encoding == .utf8, let q = templated(content) { return .search(q) }
    func name() -> UnsafeRawBufferPointer { frames.field(2)! }  // the encoding as sent, read only to refuse it
    guard let encoding = head.encoding else { return .badEncoding(EncodingRefusal(unsupported: true, name: name())) }
    guard let utf8 = encoding.utf8(content, into: &text) else {
      if name().equals(RequestRefusal.utf8Name) { return .refused(.notUTF8) }
      return .badEncoding(EncodingRefusal(unsupported: false, name: name()))
    }
    do throws(JSONParser.Failure) {
      try members.read(
        utf8, ("action", "value", "limit", "typos"), maxDepth: limits.maxJSONDepth, knownUTF8: true,
        refusingDuplicates: false)
    } catch {
      return .refused(error == .notAnObject ? .notAnObject : .notJSON)
    }
    guard let asked = members.string(0, in: utf8) else {
      return .refused(members.found[0] == .absent ? .noAction : .actionNotAString)
    }
    if asked.equals("stats") { return .stats }
    let isSuggest = asked.equals("suggest")
    guard isSuggest || asked.equals("search") else { return .unknownAction(asked) }
    guard let q = members.string(1, in: utf8) else {
      return .refused(isSuggest ? .suggestWithoutValue : .searchWithoutValue)
    }
    guard isSuggest else {
      if case .string(let r, copied: false) = members.found[1], utf8.baseAddress == content.baseAddress {
        learn(content, value: r)
      }
      return .search(q)
    }
    // A suggest's options, refused in this order: text, limit, typos.
    let scalars = SuggestRequest.scalarCount(q)
    guard scalars <= SuggestRequest.maxTextScalars else { return .refused(.suggestTextTooLong) }
    guard let limit = members.option(2, SuggestRequest.limits, absent: SuggestRequest.defaultLimit) else {
      return .refused(.badLimit)
    }
    let typos = SuggestRequest.defaultTypos(scalars: scalars)
    guard let typos = members.option(3, SuggestRequest.typoRange, absent: typos) else { return .refused(.badTypos) }
    return .suggest(SuggestRequest(text: q, limit: limit, typos: typos))
  }

  /// A search with the bytes around the value of the last one read in place, and a value of
  /// plain UTF-8 (no `"`, `\` or control), reads as that one did: known without the walk.
  @inline(__always) private mutating func templated(_ content: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
    let (p, s) = (prefixCount, shape.count - prefixCount)
    guard p > 0, content.count >= p + s else { return nil }
    let matches = shape.withUnsafeBytes { shape in
      // The suffix is a few bytes (`"}`): compared in line, the prefix with one memcmp.
      for i in 0..<s where content[content.count - s + i] != shape[p + i] { return false }
      return memcmp(content.baseAddress!, shape.baseAddress!, p) == 0
    }
    guard matches else { return nil }
    let value = UnsafeRawBufferPointer(rebasing: content[p..<(content.count - s)])
    return JSONScan.firstSpecial(value, from: 0) == value.count && UTF8Validation.isValid(value) ? value : nil
  }

  private mutating func learn(_ content: UnsafeRawBufferPointer, value: Range<Int>) {
    shape.removeAll(keepingCapacity: true)
    shape.append(contentsOf: content[..<value.lowerBound])
    shape.append(contentsOf: content[value.upperBound...])
    prefixCount = value.lowerBound
  }
}
