import SearchdIndex
import SearchdWire

/// What to send for one request: a reply encoded with the index, or bytes made for this
/// request. The connection queues it (copied if small, by reference if large).
enum Answer {
  case stored([UInt8])
  case made([UInt8])

  @inline(__always) var bytes: [UInt8] {
    switch self {
    case .stored(let b), .made(let b): return b
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

  /// The answer to `query`, with the action it named (for the log). `trusted`: the peer is
  /// local, so admin actions are allowed. `onError` hears of each request-level error.
  func answer(_ query: Query, trusted: Bool, onError: (WireError) -> Void) -> (Answer, action: String) {
    switch query {
    case .search(let q): return (search(q), "search")
    case .frame(let frame):
      let request: Request
      do throws(WireError) {
        request = try Request.parse(frame, limits: limits)
      } catch {
        onError(error)
        return (.made(Reply.error(error)), "invalid")
      }
      return (answer(request, trusted: trusted, onError: onError), request.actionName)
    }
  }

  /// A hit allocates nothing: its reply was encoded with the table.
  @inline(__always) private func search(_ query: UnsafeRawBufferPointer) -> Answer {
    if let entry = table.entry(forQuery: query) {
      counters.count(.searchHit)
      return .stored(table.reply(entry))
    }
    counters.count(.searchMiss)
    return .made(Reply.noMatch(query: Array(query)))
  }

  private func answer(_ request: Request, trusted: Bool, onError: (WireError) -> Void) -> Answer {
    switch request {
    case .search(let query):
      return query.withUnsafeBytes { search($0) }
    case .unknownAction(let action):
      counters.count(.invalidAction)
      return .made(Reply.invalidAction(action))
    case .binary(let content):
      counters.count(.binary)
      return .made(Reply.binary(echoing: content))
    case .stats:
      guard trusted else {
        let error = WireError(.notPermitted, "stats are only served to local clients", closesConnection: false)
        onError(error)
        return .made(Reply.error(error))
      }
      counters.count(.stats)
      return .made(statsReport(table))
    }
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
