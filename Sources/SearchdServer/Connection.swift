import Logging
import SearchdLoop
import SearchdSystem
import SearchdWire

/// An application-protocol connection: performs the reads and writes its
/// `ConnectionState` asks for.
final class Connection: EventHandler, ServedConnection {
  let socket: Socket
  let id: UInt64
  private var state: ConnectionState
  // unowned(unsafe): the worker owns its connections and outlives every one of them, and
  // the checked kind cost an atomic retain and release on each request (perf).
  private unowned(unsafe) let worker: LoopWorker
  private var interest: ConnectionState.Interest = .init(readable: true, writable: false)
  private var pausedCounted = false
  private var yieldCounted = false
  private let logger: Logger
  /// A local peer (loopback or unix socket): admin actions are allowed.
  private let trusted: Bool
  /// The per-request debug line is wanted (the level is fixed at start-up).
  private let logsRequests: Bool

  private let peerAddress: SocketAddress?

  init(socket: Socket, id: UInt64, worker: LoopWorker, logger: Logger, trusted: Bool, peer: SocketAddress?) {
    peerAddress = peer
    self.socket = socket
    self.id = id
    self.trusted = trusted
    self.worker = worker
    self.logger = logger
    logsRequests = logger.logLevel <= .debug
    state = ConnectionState(
      wire: worker.shared.config.wire, limits: worker.shared.config.connection, now: worker.loop.now)
  }

  /// The peer's address, for the log: formatted only when a line is written.
  var peer: String { peerAddress.map(String.init(describing:)) ?? "?" }

  var events: EpollEvents { Self.events(for: interest) }

  private static func events(for i: ConnectionState.Interest) -> EpollEvents {
    var e: EpollEvents = [.readHangup]
    if i.readable { e.insert(.readable) }
    if i.writable { e.insert(.writable) }
    return e
  }

  func handleEvents(_ events: EpollEvents) {
    state.beginTurn(now: worker.loop.now)
    yieldCounted = false
    if state.wantsInput && !events.isDisjoint(with: [.readable, .readHangup, .hangup, .error]) {
      worker.inputs.lend(into: &state.input)
      if read() == .closed { return }
    }
    worker.outputs.lend(into: &state.output)
    drive()
    // Also after a close: the buffers outlive the connection in the pool.
    worker.inputs.takeBack(&state.input)
    worker.outputs.takeBack(&state.output)
  }

  private enum ReadOutcome { case data, blocked, endOfInput, closed }

  /// One read per wakeup: epoll is level-triggered, so a busy peer is called back next
  /// turn, and one connection cannot starve the others.
  private func read() -> ReadOutcome {
    do {
      guard let n = try readOnce(socket, into: &state.input, upTo: state.limits.readChunk) else { return .blocked }
      if n == 0 {
        state.didReachEndOfInput()
        return .endOfInput
      }
      state.didRead(now: worker.loop.now)
      return .data
    } catch {
      close(reason: "read failed: \(error.errno)")
      return .closed
    }
  }

  /// Serves what has been decoded and writes until the socket pushes back, then
  /// registers the interest the state machine wants.
  private func drive() {
    while true {
      serveBuffered()
      if state.yielded && !yieldCounted {
        yieldCounted = true
        worker.shared.stats.requestYields.wrappingIncrement(ordering: .relaxed)
      }
      if state.readPaused != pausedCounted {
        pausedCounted = state.readPaused
        if pausedCounted { worker.shared.stats.outputPaused.wrappingIncrement(ordering: .relaxed) }
      }
      switch state.nextAction() {
      case .flush:
        do {
          switch try state.output.write(to: socket) {
          case .processed(let n):
            state.didWrite(n, now: worker.loop.now)
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

  private func setInterest(_ wanted: ConnectionState.Interest) {
    guard wanted != interest else { return }
    interest = wanted
    do {
      try worker.loop.modify(socket.descriptor, events: events)
    } catch {
      close(reason: "epoll_ctl failed: \(error.errno)")
    }
  }

  func sweep(now: UInt64) {
    if let reason = state.checkDeadlines(now: now) {
      if reason == .idle { worker.shared.stats.idleKicks.wrappingIncrement(ordering: .relaxed) }
      if reason == .sendTimeout { worker.shared.stats.sendTimeouts.wrappingIncrement(ordering: .relaxed) }
      if case .protocolError(.timeout) = reason {
        worker.shared.stats.timeouts.wrappingIncrement(ordering: .relaxed)
        // Best effort: the timeout reply goes out if the socket takes it now.
        _ = try? state.output.write(to: socket)
      }
      close(reason: reason)
    }
  }

  func drain() {
    // Take in what the peer has already sent, so every request received is answered.
    if state.wantsInput { worker.inputs.lend(into: &state.input) }
    worker.outputs.lend(into: &state.output)
    reading: while state.wantsInput {
      switch read() {
      case .data:
        // Shutdown is no time for fairness: answer all that came, then close.
        state.beginTurn(budget: .max, now: worker.loop.now)
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
    let now = worker.loop.now
    worker.withHandler { handler in
      state.serve(now: now, quick: { quickAnswer(&handler, $0, &$1, $2) }, answer: { answer(&handler, $0) })
    }
  }

  private func quickAnswer(
    _ handler: inout RequestHandler, _ bytes: UnsafeRawBufferPointer, _ output: inout OutputQueue, _ room: Int
  ) -> ConnectionState.QuickAnswer? {
    guard logsRequests else { return handler.quickReply(bytes, into: &output, room: room) }
    let start = MonotonicClock.nanoseconds()
    guard let answered = handler.quickReply(bytes, into: &output, room: room) else { return nil }
    logServed(action: "search", start: start, replyBytes: answered.replyBytes)
    return answered
  }

  private func logServed(action: String, start: UInt64, replyBytes: Int) {
    logger.debug(
      "request served",
      metadata: [
        "searchd_action": "\(action)", "searchd_peer": "\(peer)", "searchd_connection": "\(id)",
        "searchd_latency_us": "\((MonotonicClock.nanoseconds() - start) / 1000)",
        "searchd_reply_bytes": "\(replyBytes)",
      ])
  }

  private func answer(_ handler: inout RequestHandler, _ frame: Frame) -> [UInt8] {
    guard logsRequests else { return handler.reply(to: frame, trusted: trusted, onError: reportError) }
    let start = MonotonicClock.nanoseconds()
    let parsed = handler.parse(frame)
    let reply = handler.reply(to: parsed, trusted: trusted, onError: reportError)
    logServed(action: (try? parsed.get())?.actionName ?? "invalid", start: start, replyBytes: reply.count)
    return reply
  }

  private func reportError(_ error: WireError) {
    worker.reportProtocolError(error, connection: id, peer: peer)
  }

  private func close(reason: ConnectionState.CloseReason) {
    if case .protocolError = reason, let failure = state.failure { reportError(failure) }
    close(reason: reason.description)
  }

  private func close(reason: String) {
    guard socket.isOpen else { return }
    logger.debug(
      "connection closed", metadata: ["searchd_connection": "\(id)", "searchd_reason": "\(reason)"])
    worker.remove(self)
    socket.close()
  }
}
