import SearchdIndex
import SearchdWire

/// Answers requests: the one place they are counted. Owned by one loop's context; the
/// table is replaced whole on reload.
public struct RequestHandler: Sendable {
  public var table: LookupTable
  public let limits: WireLimits
  /// This loop's counters.
  public let counters: RequestCounters
  /// Renders the `stats` reply; the server supplies it, as only it sees every loop.
  public let statsReport: @Sendable (LookupTable) -> [UInt8]
  /// This loop's suggester and the memory its replies are written in.
  private let suggesting: Suggesting

  public init(
    table: LookupTable, limits: WireLimits, counters: RequestCounters,
    statsReport: @escaping @Sendable (LookupTable) -> [UInt8]
  ) {
    self.table = table
    self.limits = limits
    self.counters = counters
    self.statsReport = statsReport
    suggesting = Suggesting(maxVisits: limits.suggestMaxVisits)
  }

  /// What answering one request gave: the answer, the action it named (for the log),
  /// and the request-level error it met, if any (for the count and the log).
  public struct Answered {
    public var answer: Answer
    public var action: String
    public var error: WireError?
  }

  /// The answer to `query`. `trusted`: the peer is local, so admin actions are allowed.
  /// Errors are returned, not reported through a callback (rule 2, docs/PERFORMANCE.md).
  public func answer(_ query: Query, trusted: Bool) -> Answered {
    switch query {
    case .search(let q): return Answered(answer: search(q), action: "search", error: nil)
    case .binary(let c): return Answered(answer: binary(c), action: "binary", error: nil)
    case .unknownAction(let a):
      return Answered(answer: invalidAction(a), action: String(decoding: a, as: UTF8.self), error: nil)
    case .refused(let r): return Answered(answer: refused(r), action: "invalid", error: r.error)
    case .badEncoding(let refusal):
      let error = refusal.error
      return Answered(answer: .made(Reply.error(error)), action: "invalid", error: error)
    case .stats:
      guard trusted else {
        let error = WireError(.notPermitted, "stats are only served to local clients", closesConnection: false)
        return Answered(answer: .made(Reply.error(error)), action: "stats", error: error)
      }
      counters.count(.stats)
      return Answered(answer: .made(statsReport(table)), action: "stats", error: nil)
    case .suggest(let request):
      counters.count(.suggest)
      guard let reply = suggesting.answer(request, in: table) else {
        return Answered(answer: .made(Reply.error(Self.noSuggestions)), action: "suggest", error: Self.noSuggestions)
      }
      return Answered(answer: .direct(.prepared(reply)), action: "suggest", error: nil)
    }
  }

  static let noSuggestions = WireError(
    .noSuggestions, "this index was built without suggestions (format version 1): rebuild it with searchd-index build",
    closesConnection: false)

  /// A search's answer: every search, whichever way it was decoded, is answered and
  /// counted here. A hit allocates and retains nothing: its text was escaped with the
  /// table; nor does a miss: its reply is written into the output.
  @inline(__always) public func search(_ query: UnsafeRawBufferPointer) -> Answer {
    if let text = table.text(forQuery: query) {
      counters.count(.searchHit)
      return .hit(text: text, owner: Unmanaged.passUnretained(table))
    }
    counters.count(.searchMiss)
    return .direct(.miss(query: query))
  }

  /// A binary request's answer, written into the output: nothing allocated.
  @inline(__always) public func binary(_ content: UnsafeRawBufferPointer) -> Answer {
    counters.count(.binary)
    return .direct(.binary(content: content))
  }

  /// An action other than search and stats, answered as the reference does, written into
  /// the output: nothing allocated.
  @inline(__always) public func invalidAction(_ action: UnsafeRawBufferPointer) -> Answer {
    counters.count(.invalidAction)
    return .direct(.invalidAction(action))
  }

  /// A well-framed request refused for its content: its reply, made once (the caller
  /// reports the error, as for any request's).
  @inline(__always) public func refused(_ refusal: RequestRefusal) -> Answer { .made(refusal.reply) }
}
