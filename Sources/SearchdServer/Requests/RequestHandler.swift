import SearchdIndex
import SearchdWire

/// What to send for one request: a reply encoded with the index (bytes the index owns:
/// nothing is retained unless the queue keeps them by reference), or bytes made for this
/// request. The connection queues it (copied if small, by reference if large).
enum Answer {
  case stored(UnsafeRawBufferPointer, owner: Unmanaged<AnyObject>)
  case made([UInt8])

  @inline(__always) var count: Int {
    switch self {
    case .stored(let b, _): return b.count
    case .made(let b): return b.count
    }
  }

  /// A copy of the bytes, for tests and diagnostics.
  var copiedBytes: [UInt8] {
    switch self {
    case .stored(let b, _): return Array(b)
    case .made(let b): return b
    }
  }
}

/// What the decoder handed over: a plain search recognised in place (its query's bytes,
/// valid for the call), or a whole frame for the full parse.
enum Query {
  case search(UnsafeRawBufferPointer)
  case frame(Frame)
}

/// Answers requests: the one place they are counted. Owned by one loop's context; the
/// table is replaced whole on reload.
struct RequestHandler {
  var table: LookupTable
  let limits: WireLimits
  /// This loop's counters.
  let counters: RequestCounters
  /// Renders the `stats` reply; the server supplies it, as only it sees every loop.
  let statsReport: @Sendable (LookupTable) -> [UInt8]

  /// What answering one request gave: the answer, the action it named (for the log),
  /// and the request-level error it met, if any (for the count and the log).
  struct Answered {
    var answer: Answer
    var action: String
    var error: WireError?
  }

  /// The answer to `query`. `trusted`: the peer is local, so admin actions are allowed.
  /// (Errors are returned, not reported through a callback: a closure capturing the
  /// connection cost a retain and a release per request, perf.)
  func answer(_ query: Query, trusted: Bool) -> Answered {
    switch query {
    case .search(let q): return Answered(answer: search(q), action: "search", error: nil)
    case .frame(let frame):
      let request: Request
      do throws(WireError) {
        request = try Request.parse(frame, limits: limits)
      } catch {
        return Answered(answer: .made(Reply.error(error)), action: "invalid", error: error)
      }
      return answer(request, trusted: trusted)
    }
  }

  /// A search's answer: every search, whichever way it was decoded, is answered and
  /// counted here. A hit allocates and retains nothing: its reply was encoded with the table.
  @inline(__always) func search(_ query: UnsafeRawBufferPointer) -> Answer {
    if let entry = table.entry(forQuery: query) {
      counters.count(.searchHit)
      return .stored(table.reply(entry), owner: Unmanaged.passUnretained(table))
    }
    counters.count(.searchMiss)
    return .made(Reply.noMatch(query: Array(query)))
  }

  private func answer(_ request: Request, trusted: Bool) -> Answered {
    let answer: Answer
    switch request {
    case .search(let query):
      answer = query.withUnsafeBytes { search($0) }
    case .unknownAction(let action):
      counters.count(.invalidAction)
      answer = .made(Reply.invalidAction(action))
    case .binary(let content):
      counters.count(.binary)
      answer = .made(Reply.binary(echoing: content))
    case .stats:
      guard trusted else {
        let error = WireError(.notPermitted, "stats are only served to local clients", closesConnection: false)
        return Answered(answer: .made(Reply.error(error)), action: "stats", error: error)
      }
      counters.count(.stats)
      answer = .made(statsReport(table))
    }
    return Answered(answer: answer, action: request.actionName, error: nil)
  }
}

extension Request {
  /// The action as the log names it.
  var actionName: String {
    switch self {
    case .search: return "search"
    case .unknownAction(let a): return a
    case .binary: return "binary"
    case .stats: return "stats"
    }
  }
}
