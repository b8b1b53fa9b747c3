import SearchdWire

/// Answers one frame. Owned by one loop; the catalog is replaced whole on reload.
struct RequestHandler {
  var catalog: Catalog
  let limits: WireLimits
  let stats: ServerStats

  /// The reply bytes; a request-level error becomes an error reply (the connection goes on).
  func reply(to frame: Frame) -> [UInt8] {
    let request: Request
    do {
      request = try Request.parse(frame, limits: limits)
    } catch {
      stats.count(error.code)
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
    }
  }
}
