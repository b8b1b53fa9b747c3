import SearchdWire

/// Answers one frame. Owned by one loop; the catalog is replaced whole on reload.
struct RequestHandler {
  var catalog: Catalog
  let limits: WireLimits
  let stats: ServerStats
  /// Renders the `stats` reply; the server supplies it, as only it sees every loop.
  let statsReport: @Sendable (Catalog) -> [UInt8]
  var headerMemo = QuickSearch.HeaderMemo()

  /// The reply to the plain search at the start of `bytes`, and the frame's length, when
  /// `QuickSearch` recognises one; nil sends the caller to the full decoder. A hit
  /// allocates nothing: its reply was encoded with the catalog.
  mutating func quickReply(_ bytes: UnsafeRawBufferPointer) -> (frameLength: Int, reply: [UInt8])? {
    guard let m = QuickSearch.match(bytes, limits: limits, memo: &headerMemo) else { return nil }
    let query = UnsafeRawBufferPointer(rebasing: bytes[m.query])
    if let hit = catalog.reply(forQuery: query) {
      stats.count(.searchHit)
      return (m.frameLength, hit)
    }
    stats.count(.searchMiss)
    return (m.frameLength, Reply.noMatch(query: Array(query)))
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
        stats.count(.searchHit)
        return hit
      }
      stats.count(.searchMiss)
      return Reply.noMatch(query: query)
    case .unknownAction(let action):
      stats.count(.invalidAction)
      return Reply.invalidAction(action)
    case .binary(let content):
      stats.count(.binary)
      return Reply.binary(echoing: content)
    case .stats:
      guard trusted else {
        let error = WireError(.notPermitted, "stats are only served to local clients", closesConnection: false)
        onError(error)
        return Reply.error(error)
      }
      stats.count(.stats)
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
