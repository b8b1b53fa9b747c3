import SearchdLoop
import SearchdSystem
import SearchdWire

/// The search protocol under the driver: `ConnectionState` is its machine, served with the
/// loop's request reader and handler; every request is answered and logged here.
extension ConnectionState: ConnectionMachine {
  typealias Services = SearchServing
  static var countsTraffic: Bool { true }
  var readChunk: Int { limits.readChunk }

  /// Answers the requests buffered, with one access to the loop's handler for the batch.
  static func serve(_ state: inout ConnectionState, on conn: ConnectionDriver<ConnectionState>) {
    let search = conn.services
    let now = conn.context.now
    var served = 0
    search.withLent { lent in
      state.serve(now: now, reader: &lent.reader) { query in
        served &+= 1
        return conn.respond(&lent.handler, query)
      }
    }
    // One clock read per batch: each request's latency is its batch's, from the wakeup.
    if served > 0 { search.latency.record(MonotonicClock.nanoseconds() &- now, count: served) }
  }
}

extension ConnectionDriver where Machine == ConnectionState {

  /// The one place a request is answered and logged, whichever way it was decoded.
  @inline(__always) fileprivate func respond(_ handler: inout RequestHandler, _ query: Query) -> Answer {
    guard services.logsRequests else {
      // The common requests straight to their answers, with nothing else to carry.
      switch query {
      case .search(let q): return handler.search(q)
      case .binary(let c): return handler.binary(c)
      case .unknownAction(let a): return handler.invalidAction(a)
      case .refused(let r):
        reportError(r.error)
        return handler.refused(r)
      case .stats, .badEncoding, .suggest: break
      }
      let answered = handler.answer(query, trusted: trusted)
      if let error = answered.error { reportError(error) }
      return answered.answer
    }
    let start = MonotonicClock.nanoseconds()
    let answered = handler.answer(query, trusted: trusted)
    if let error = answered.error { reportError(error) }
    context.logger.debug(
      "request served",
      metadata: [
        "searchd_action": "\(answered.action)", "searchd_peer": "\(peer)", "searchd_connection": "\(id)",
        "searchd_latency_us": "\((MonotonicClock.nanoseconds() - start) / 1000)",
        "searchd_reply_bytes": "\(answered.answer.count(ReplyShapes.shared))",
        "searchd_client": "\(transport.client ?? "")",
      ])
    return answered.answer
  }
}
