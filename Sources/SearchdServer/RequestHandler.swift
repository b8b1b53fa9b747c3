import SearchdWire

/// Answers one frame. Owned by one loop; the catalog is replaced whole on reload.
struct RequestHandler {
  var catalog: Catalog
  let limits: WireLimits
  /// This loop's counters.
  let counters: RequestCounters
  /// Renders the `stats` reply; the server supplies it, as only it sees every loop.
  let statsReport: @Sendable (Catalog) -> [UInt8]
  var headerMemo = QuickSearch.HeaderMemo()

  /// Answers the plain search at the start of `bytes` when `QuickSearch` recognises one,
  /// queueing its reply on `output` if it fits in `room` bytes; nil sends the caller to
  /// the full decoder (which also refuses a reply too large). A hit allocates nothing:
  /// its reply was encoded with the catalog.
  mutating func quickReply(_ bytes: UnsafeRawBufferPointer, into output: inout OutputQueue, room: Int)
    -> ConnectionState.QuickAnswer?
  {
    guard let m = QuickSearch.match(bytes, limits: limits, memo: &headerMemo) else { return nil }
    let query = UnsafeRawBufferPointer(rebasing: bytes[m.query])
    if let entry = catalog.entry(forQuery: query) {
      let count = catalog.queueReply(entry, on: &output, room: room)
      guard count > 0 else { return nil }
      counters.count(.searchHit)
      return .init(frameLength: m.frameLength, replyBytes: count)
    }
    let reply = Reply.noMatch(query: Array(query))
    guard reply.count <= room else { return nil }
    counters.count(.searchMiss)
    output.append(reply)
    return .init(frameLength: m.frameLength, replyBytes: reply.count)
  }

  /// The reply bytes; a request-level error becomes an error reply (the connection goes on).
  /// `trusted`: the peer is local (loopback or unix socket), so admin actions are allowed.
  /// `onError` hears of each request-level error, for the log.
  func reply(to frame: Frame, trusted: Bool, onError: (WireError) -> Void) -> [UInt8] {
    reply(to: parse(frame), trusted: trusted, onError: onError)
  }

  func parse(_ frame: Frame) -> Result<Request, WireError> {
    Result { () throws(WireError) in try Request.parse(frame, limits: limits) }
  }

  /// The reply to a request already parsed (or the error its parsing met).
  func reply(to parsed: Result<Request, WireError>, trusted: Bool, onError: (WireError) -> Void) -> [UInt8] {
    let request: Request
    switch parsed {
    case .success(let r): request = r
    case .failure(let error):
      onError(error)
      return Reply.error(error)
    }
    switch request {
    case .search(let query):
      if let hit = catalog.reply(forQuery: query) {
        counters.count(.searchHit)
        return hit
      }
      counters.count(.searchMiss)
      return Reply.noMatch(query: query)
    case .unknownAction(let action):
      counters.count(.invalidAction)
      return Reply.invalidAction(action)
    case .binary(let content):
      counters.count(.binary)
      return Reply.binary(echoing: content)
    case .stats:
      guard trusted else {
        let error = WireError(.notPermitted, "stats are only served to local clients", closesConnection: false)
        onError(error)
        return Reply.error(error)
      }
      counters.count(.stats)
      return statsReport(catalog)
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
