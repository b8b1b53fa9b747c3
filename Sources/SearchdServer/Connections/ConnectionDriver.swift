import Logging
import SearchdConfig
import SearchdLoop
import SearchdSystem
import SearchdWire

/// The one connection driver, for every protocol: performs the reads and writes its state
/// machine asks for, through its transport, with what its loop's context lends; keeps the
/// interest, counts the flow control, enforces the deadlines the machine reports, closes.
/// The protocol is the machine (`ConnectionState` for search, `EchoState`, `AdminExchange`);
/// on a PROXY listener, the header's first stage runs before it, in the same driver.
final class ConnectionDriver<Machine: ConnectionMachine>: EventHandler, ServedConnection {
  let transport: any Transport
  let id: UInt64
  let descriptor: Int32
  // Internal, for the machine's `serve`: nothing else touches it.
  var state: Machine
  // Strong: the cycle through the registry ends at close (ARCHITECTURE.md, "Who owns what").
  let context: ConnectionContext
  /// What this protocol uses of its loop besides (`SearchServing` for search).
  let services: Machine.Services
  private var interest: Interest = .readable
  private var pausedCounted = false
  private var yieldCounted = false
  /// A local peer (loopback or unix socket): admin actions are allowed.
  private var localPeer: Bool
  /// The peer: the socket's, or once a PROXY header is read, the client it names.
  private var peerAddress: SocketAddress?
  /// Until a PROXY listener's header is whole: nothing else is read.
  private var preamble: ProxyPreamble?

  init(
    _ machine: Machine, services: Machine.Services, transport: any Transport, id: UInt64, context: ConnectionContext,
    peer: SocketAddress?, preamble: ProxyPreamble? = nil
  ) {
    self.services = services
    self.transport = transport
    descriptor = transport.descriptor
    self.id = id
    self.context = context
    peerAddress = peer
    localPeer = PeerTrust.isLocal(peer)
    self.preamble = preamble
    state = machine
  }

  /// The peer's address, for the log: formatted only when a line is written.
  var peer: String { peerAddress.map(String.init(describing:)) ?? "?" }

  /// May use the admin actions: a local peer, or a TLS client whose certificate is listed.
  var trusted: Bool { localPeer || transport.grantsAdmin }

  // Called through the loop's handler table, a generic class's method runs unspecialized,
  // copying the machine at every step (rule 6, docs/PERFORMANCE.md): specialized for search.
  @_specialize(where Machine == ConnectionState)
  func handleEvents(_ ready: Interest) {
    state.beginTurn(budget: nil, now: context.now)
    yieldCounted = false
    var readable = ready.contains(.readable) || transport.hasBufferedInput
    if preamble != nil {
      context.inputs.lend(into: &state.input)
      guard let more = readProxyHeader() else { return context.inputs.takeBack(&state.input) }
      readable = more
    }
    if state.wantsInput && readable {
      context.inputs.lend(into: &state.input)
      if read() == .closed { return }
    }
    endTurn()
  }

  /// The PROXY header's read: nil while it is not whole or when the connection closed;
  /// then whether to read on at once (bytes past it wait in the socket). Bytes read with
  /// it are the protocol's first, served in this same turn.
  private func readProxyHeader() -> Bool? {
    let before = state.input.readableCount
    switch preamble!.read(proxy: peerAddress, into: &state.input) {
    case .wait: return nil
    case .failed(let failure, let why):
      if let failure { context.reportProxyFailure(failure, detail: why, peer: peerAddress) }
      close(reason: "PROXY header: \(why)")
      return nil
    case .header(let client, let moreWaiting):
      context.logAccepted(id, peer: client, served: preamble!.served)
      preamble = nil
      peerAddress = client
      localPeer = PeerTrust.isLocal(client)
      transport.proxyHeaderRead(client: client, now: context.now)
      let n = state.input.readableCount - before
      if n > 0 {
        state.didRead(now: context.now)
        if Machine.countsTraffic { context.counters.received(n) }
      }
      return moreWaiting
    }
  }

  private func endTurn() {
    context.outputs.lend(into: &state.output)
    drive()
    // Also after a close: the buffers outlive the connection in the pool.
    context.inputs.takeBack(&state.input)
    context.outputs.takeBack(&state.output)
  }

  private enum ReadOutcome { case data, blocked, endOfInput, closed }

  /// One read per wakeup: the loop is level-triggered on either backend, so a busy peer
  /// is called back next turn, and one connection cannot starve the others.
  private func read() -> ReadOutcome {
    do {
      guard let n = try readOnce(transport, into: &state.input, upTo: state.readChunk) else { return .blocked }
      if n == 0 {
        state.didReachEndOfInput()
        return .endOfInput
      }
      state.didRead(now: context.now)
      if Machine.countsTraffic { context.counters.received(n) }
      return .data
    } catch {
      close(reason: "read failed: \(error.errno)")
      return .closed
    }
  }

  /// Serves what has been read and writes until the transport pushes back, then waits
  /// for what the state machine wants.
  private func drive() {
    while true {
      Machine.serve(&state, on: self)
      countFlowControl()
      switch state.nextAction() {
      case .flush:
        do {
          switch try state.output.write(to: transport) {
          case .processed(let n):
            state.didWrite(n, now: context.now)
            if Machine.countsTraffic { context.counters.sent(n) }
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
      close(reason: "\(error.call) failed: \(error.errno)")
    }
  }

  @_specialize(where Machine == ConnectionState)
  func sweep(now: UInt64) {
    if let preamble {
      if case .failed(let failure?, let why)? = preamble.checkDeadline(now: now) {
        context.reportProxyFailure(failure, detail: why, peer: peerAddress)
        close(reason: "PROXY header: \(why)")
      }
      return
    }
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
    // A PROXY header not yet whole: nothing was asked.
    if preamble != nil { return close(reason: "shutting down") }
    // Take in what the peer has already sent, so every request received is answered.
    if state.wantsInput { context.inputs.lend(into: &state.input) }
    context.outputs.lend(into: &state.output)
    reading: while state.wantsInput {
      switch read() {
      case .data:
        // Shutdown is no time for fairness: answer all that came, then close.
        state.beginTurn(budget: .max, now: context.now)
        Machine.serve(&state, on: self)
      case .closed: return
      case .blocked, .endOfInput: break reading
      }
    }
    state.beginDrain()
    drive()
  }

  func forceClose() { close(reason: "shutdown deadline") }

  func reportError(_ error: WireError) {
    context.reportProtocolError(error, connection: id, peer: peer, client: transport.client)
  }

  private func close(reason: CloseReason) {
    if case .protocolError = reason, let failure = state.failure { reportError(failure) }
    // Everything said: a FIN now, whatever the peer still sends.
    if reason == .replied { transport.finishWriting() }
    close(reason: reason.description)
  }

  private func close(reason: String) {
    context.registry.close(self, transport: transport, id: id, reason: reason, logger: context.logger)
  }
}
