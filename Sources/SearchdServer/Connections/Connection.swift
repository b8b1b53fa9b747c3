import Logging
import SearchdConfig
import SearchdLoop
import SearchdSystem
import SearchdWire

/// An application-protocol connection: performs the reads and writes its
/// `ConnectionState` asks for, through its transport, with what its loop's context lends.
final class Connection: EventHandler, ProtocolConnection {
  let transport: any Transport
  let id: UInt64
  let descriptor: Int32
  private var state: ConnectionState
  // Strong: the cycle through the registry ends at close (ARCHITECTURE.md, "Who owns what").
  private let context: ConnectionContext
  private var interest: Interest = .readable
  private var pausedCounted = false
  private var yieldCounted = false
  /// A local peer (loopback or unix socket): admin actions are allowed.
  private let localPeer: Bool
  private let peerAddress: SocketAddress?

  init(transport: any Transport, id: UInt64, context: ConnectionContext, peer: SocketAddress?) {
    self.transport = transport
    descriptor = transport.descriptor
    self.id = id
    self.context = context
    peerAddress = peer
    localPeer = PeerTrust.isLocal(peer)
    state = ConnectionState(limits: context.limits, now: context.now)
  }

  /// The peer's address, for the log: formatted only when a line is written.
  var peer: String { peerAddress.map(String.init(describing:)) ?? "?" }

  /// May use the admin actions: a local peer, or a TLS client whose certificate is listed.
  private var trusted: Bool { localPeer || transport.grantsAdmin }

  func handleEvents(_ ready: Interest) {
    state.beginTurn(now: context.now)
    yieldCounted = false
    if state.wantsInput && (ready.contains(.readable) || transport.hasBufferedInput) {
      context.inputs.lend(into: &state.input)
      if read() == .closed { return }
    }
    endTurn()
  }

  /// A first turn with bytes a first stage read off the socket for this connection (the
  /// request that came with a PROXY header), served as if read here.
  func handleReceived(_ bytes: UnsafeRawBufferPointer) {
    state.beginTurn(now: context.now)
    yieldCounted = false
    context.inputs.lend(into: &state.input)
    state.input.append(bytes)
    state.didRead(now: context.now)
    context.counters.received(bytes.count)
    endTurn()
  }

  private func endTurn() {
    context.outputs.lend(into: &state.output)
    drive()
    // Also after a close: the buffers outlive the connection in the pool.
    context.inputs.takeBack(&state.input)
    context.outputs.takeBack(&state.output)
  }

  private enum ReadOutcome { case data, blocked, endOfInput, closed }

  /// One read per wakeup: epoll is level-triggered, so a busy peer is called back next
  /// turn, and one connection cannot starve the others.
  private func read() -> ReadOutcome {
    do {
      guard let n = try readOnce(transport, into: &state.input, upTo: state.limits.readChunk) else { return .blocked }
      if n == 0 {
        state.didReachEndOfInput()
        return .endOfInput
      }
      state.didRead(now: context.now)
      context.counters.received(n)
      return .data
    } catch {
      close(reason: "read failed: \(error.errno)")
      return .closed
    }
  }

  /// Serves what has been decoded and writes until the transport pushes back, then
  /// waits for what the state machine wants.
  private func drive() {
    while true {
      serveBuffered()
      countFlowControl()
      switch state.nextAction() {
      case .flush:
        do {
          switch try state.output.write(to: transport) {
          case .processed(let n):
            state.didWrite(n, now: context.now)
            context.counters.sent(n)
          case .wouldBlock:
            setInterest(state.interestWhileFlushing)
            return
          }
        } catch {
          close(reason: "write failed: \(error.errno)")
          return
        }
      case .wait(let wanted):
        setInterest(wanted)
        return
      case .close(let reason):
        close(reason: reason)
        return
      }
    }
  }

  private func countFlowControl() {
    if state.yielded && !yieldCounted {
      yieldCounted = true
      context.stats.requestYields.wrappingIncrement(ordering: .relaxed)
    }
    if state.readPaused != pausedCounted {
      pausedCounted = state.readPaused
      if pausedCounted { context.stats.outputPaused.wrappingIncrement(ordering: .relaxed) }
    }
  }

  private func setInterest(_ wanted: Interest) {
    let needed = transport.interest(for: wanted)
    guard needed != interest else { return }
    interest = needed
    do {
      try context.loop.modify(descriptor, interest: needed)
    } catch {
      close(reason: "epoll_ctl failed: \(error.errno)")
    }
  }

  func sweep(now: UInt64) {
    if transport.expired(now: now) {
      close(reason: "tls handshake timeout")
      return
    }
    guard let reason = state.checkDeadlines(now: now) else {
      // Idle at a sweep (the pools already have its buffers back): TLS records' too.
      if state.input.isEmpty && state.output.isEmpty { transport.releaseIdleBuffers() }
      return
    }
    switch reason {
    case .idle: context.stats.idleKicks.wrappingIncrement(ordering: .relaxed)
    case .sendTimeout: context.stats.sendTimeouts.wrappingIncrement(ordering: .relaxed)
    case .protocolError(.timeout):
      context.stats.timeouts.wrappingIncrement(ordering: .relaxed)
      // Best effort: the timeout reply goes out if the transport takes it now.
      _ = try? state.output.write(to: transport)
    default: break
    }
    close(reason: reason)
  }

  func drain() {
    // Take in what the peer has already sent, so every request received is answered.
    if state.wantsInput { context.inputs.lend(into: &state.input) }
    context.outputs.lend(into: &state.output)
    reading: while state.wantsInput {
      switch read() {
      case .data:
        // Shutdown is no time for fairness: answer all that came, then close.
        state.beginTurn(budget: .max, now: context.now)
        serveBuffered()
      case .closed: return
      case .blocked, .endOfInput: break reading
      }
    }
    state.beginDrain()
    drive()
  }

  func forceClose() { close(reason: "shutdown deadline") }

  /// Answers the requests buffered, with one access to the loop's handler for the batch.
  private func serveBuffered() {
    let now = context.now
    var served = 0
    context.withServing { serving in
      state.serve(now: now, reader: &serving.reader) { query in
        served &+= 1
        return respond(&serving.handler, query)
      }
    }
    // One clock read per batch: each request's latency is its batch's, from the wakeup.
    if served > 0 { context.latency.record(MonotonicClock.nanoseconds() &- now, count: served) }
  }

  /// The one place a request is answered and logged, whichever way it was decoded.
  @inline(__always) private func respond(_ handler: inout RequestHandler, _ query: Query) -> Answer {
    guard context.logsRequests else {
      // The common requests straight to their answers, with nothing else to carry.
      switch query {
      case .search(let q): return handler.search(q)
      case .binary(let c): return handler.binary(c)
      case .unknownAction(let a): return handler.invalidAction(a)
      case .refused(let r):
        reportError(r.error)
        return handler.refused(r)
      case .stats, .badEncoding: break
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
        "searchd_reply_bytes": "\(answered.answer.count(state.output.shapes))",
        "searchd_client": "\(transport.client ?? "")",
      ])
    return answered.answer
  }

  private func reportError(_ error: WireError) {
    context.reportProtocolError(error, connection: id, peer: peer, client: transport.client)
  }

  private func close(reason: ConnectionState.CloseReason) {
    if case .protocolError = reason, let failure = state.failure { reportError(failure) }
    close(reason: reason.description)
  }

  private func close(reason: String) {
    context.registry.close(self, transport: transport, id: id, reason: reason, logger: context.logger)
  }
}
