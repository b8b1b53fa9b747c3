import SearchdConfig
import SearchdLoop
import SearchdWire

/// One application-protocol connection as a state machine: it takes what
/// happened (bytes read, bytes written, end of input, time passing) and says
/// what to do next. It never touches a socket; `Connection` does the I/O.
public struct ConnectionState {
  public let limits: ConnectionLimits
  public var input = InputBuffer()
  public var output = OutputQueue()
  private var decoder: FrameDecoder
  public private(set) var inputClosed = false
  public private(set) var failure: WireError?
  public private(set) var draining = false
  /// Reading stopped because too many replies are queued (backpressure).
  public private(set) var readPaused = false
  /// Requests this connection may still have answered in the current loop turn.
  private var budget = 0
  /// The turn's budget ran out with bytes still buffered: come back next turn.
  public private(set) var yielded = false
  private var frameStartedAt: UInt64?
  private var answeredAny = false
  private var lastActivity: UInt64
  private var lastWriteProgress: UInt64

  public init(wire: WireLimits, limits: ConnectionLimits, now: UInt64) {
    self.limits = limits
    decoder = FrameDecoder(limits: wire)
    budget = limits.requestsPerWakeup
    lastActivity = now
    lastWriteProgress = now
  }

  /// True while more bytes should be read from the peer.
  /// Not while a yielded turn left requests buffered: input stays bounded by one read
  /// beyond a frame, however fast a peer pipelines.
  @inline(__always) public var wantsInput: Bool { !inputClosed && isHealthy && !draining && !readPaused && !yielded }

  // MARK: events

  /// Bytes were read into `input`: a message has begun if none was under way.
  public mutating func didRead(now: UInt64) {
    lastActivity = now
    if frameStartedAt == nil { frameStartedAt = now }
  }

  public mutating func didReachEndOfInput() {
    inputClosed = true
  }

  public mutating func didWrite(_ count: Int, now: UInt64) {
    if count > 0 {
      lastWriteProgress = now
      lastActivity = now
    }
    if readPaused && output.pendingBytes <= limits.lowWatermark && output.pendingReplies <= limits.maxInFlight / 2 {
      readPaused = false
    }
    if output.isEmpty { restartRequestClock(now: now) }
  }

  /// A loop turn begins for this connection: a fresh request budget (unlimited when
  /// shutting down, where every request received is answered before the close).
  public mutating func beginTurn(budget: Int? = nil, now: UInt64) {
    self.budget = budget ?? limits.requestsPerWakeup
    if yielded {
      yielded = false
      restartRequestClock(now: now)
    }
  }

  /// The request deadline charges the peer only while searchd waits for its bytes. After
  /// a wait of searchd's own (replies unwritten, reading paused, a turn yielded), a
  /// message half here gets a whole request timeout from now.
  private mutating func restartRequestClock(now: UInt64) {
    if frameStartedAt != nil { frameStartedAt = now }
  }

  private var backlogged: Bool { Self.isBacklogged(output, limits) }

  // Static, so the quick path can ask while the input is lent out.
  private static func isBacklogged(_ output: OutputQueue, _ limits: ConnectionLimits) -> Bool {
    output.pendingBytes >= limits.highWatermark || output.pendingReplies >= limits.maxInFlight
  }

  /// Stop taking requests; answer the ones received, then close.
  public mutating func beginDrain() {
    draining = true
  }

  /// Decodes the messages buffered and queues the answer `respond` gives each, in order,
  /// until the output is backlogged or the turn's budget is spent (the rest wait in
  /// `input`). The decoder's accelerator recognises plain searches in place, a run of them
  /// from one borrow of the input; everything else is decoded whole.
  public mutating func serve(now: UInt64, memo: inout FrameDecoder.HeaderMemo, respond: (Query) -> Answer) {
    while isHealthy && !backlogged {
      if budget <= 0 {
        yielded = !input.isEmpty
        return
      }
      switch plainRequests(now: now, memo: &memo, respond) {
      case .answered: continue
      case .waiting:
        waitForMore(now: now)
        return
      case .decode: break
      }
      switch decoder.decode(&input) {
      case .needMore:
        waitForMore(now: now)
        return
      case .frame(let frame):
        guard admit(respond(.frame(frame)), now: now) else { return }
      case .failed(let error):
        fail(error, now: now)
      }
    }
    if backlogged { readPaused = true }
  }

  /// The rest of a message is awaited. The decoder may have taken the length or the
  /// header out of the buffer: an empty buffer is not the end of a message.
  @inline(__always) private mutating func waitForMore(now: UInt64) {
    frameStartedAt = decoder.isMidFrame(input) ? (frameStartedAt ?? now) : nil
  }

  /// No protocol error so far. (A pattern, not `failure == nil`, which copies the error.)
  private var isHealthy: Bool {
    if case .none = failure { return true }
    return false
  }

  private enum Batch {
    /// Some were answered (or the connection failed): serve on.
    case answered
    /// The next message is unfinished but may be plain: wait for its bytes.
    case waiting
    /// The next message is the full decoder's.
    case decode
  }

  /// Answers as many plain requests in a row as the accelerator recognises, within the
  /// budget and the output limits, from one borrow of the input (one retain per batch).
  private mutating func plainRequests(
    now: UInt64, memo: inout FrameDecoder.HeaderMemo, _ respond: (Query) -> Answer
  ) -> Batch {
    guard decoder.isAtBoundary else { return .decode }
    guard !input.isEmpty else { return .waiting }
    let wire = decoder.limits
    let wasEmpty = output.isEmpty
    let budget = self.budget
    var answered = 0
    var refused: Int?
    var last = FrameDecoder.PlainOutcome.incomplete
    let consumed = input.withReadableBytes { bytes in
      var at = 0
      while at < bytes.count && answered < budget && !Self.isBacklogged(output, limits) {
        let rest = UnsafeRawBufferPointer(rebasing: bytes[at...])
        last = FrameDecoder.plainOutcome(in: rest, limits: wire, memo: &memo)
        guard case .request(let m) = last else { break }
        let answer: Answer
        switch m.kind {
        case .search(let q): answer = respond(.search(UnsafeRawBufferPointer(rebasing: rest[q])))
        case .resolvedSearch: answer = respond(.search(memo.resolvedQuery))
        case .resolvedUnknownAction: answer = respond(.unknownAction(memo.resolvedAction))
        case .refused(let r): answer = respond(.refused(r))
        case .binary(let c): answer = respond(.binary(UnsafeRawBufferPointer(rebasing: rest[c])))
        }
        let count = answer.count
        guard output.pendingBytes + count <= limits.maxOutputBytes else {
          refused = count
          break
        }
        output.append(answer, count: count)
        at += m.frameLength
        answered += 1
      }
      return at
    }
    if answered > 0 {
      input.skip(consumed)
      if wasEmpty { lastWriteProgress = now }
      self.answered(answered, now: now)
    }
    if let refused {
      refuseTooLarge(refused, now: now)
      return .answered
    }
    if answered > 0 { return .answered }
    if case .other = last { return .decode }
    return .waiting
  }

  /// An answer from the full decoder: queued, or refused over max-output-bytes (false:
  /// the connection is failing).
  private mutating func admit(_ answer: Answer, now: UInt64) -> Bool {
    let count = answer.count
    guard output.pendingBytes + count <= limits.maxOutputBytes else {
      refuseTooLarge(count, now: now)
      return false
    }
    if output.isEmpty { lastWriteProgress = now }
    output.append(answer, count: count)
    answered(1, now: now)
    return true
  }

  private mutating func refuseTooLarge(_ bytes: Int, now: UInt64) {
    budget -= 1
    fail(
      WireError(.replyTooLarge, "the reply (\(bytes) bytes) is larger than max-output-bytes", closesConnection: true),
      now: now)
  }

  /// `count` requests answered: they spend budget.
  private mutating func answered(_ count: Int, now: UInt64) {
    budget -= count
    answeredAny = true
    // Bytes of the next frame already here arrived with this read.
    frameStartedAt = input.isEmpty ? nil : now
  }

  private mutating func fail(_ error: WireError, now: UInt64) {
    failure = error
    if output.isEmpty { lastWriteProgress = now }
    output.append(Reply.error(error))
  }

  /// What to do now that the last event has been taken in.
  // Inlined by rule 2 (docs/PERFORMANCE.md): outlined, it copied the whole state each turn.
  @inline(__always) public func nextAction() -> Action {
    if !output.isEmpty { return .flush }
    if let failure { return .close(.protocolError(failure.code)) }
    // Writable is always ready at once: it brings this connection back next turn.
    if yielded { return .wait(.writable) }
    if inputClosed { return .close(decoder.isMidFrame(input) ? .truncated : .finished) }
    if draining { return .close(.shutdown) }
    if limits.closeAfterReply && answeredAny && input.isEmpty && decoder.isAtBoundary { return .close(.replied) }
    return .wait(wantsInput ? .readable : [])
  }

  /// After a flush that would block: wait for the socket to take more.
  @inline(__always) public var interestWhileFlushing: Interest { wantsInput ? [.readable, .writable] : .writable }

  // MARK: time

  /// Checks the deadlines; returns a close when one has passed. A stalled frame gets a
  /// `timeout` reply first (queued here; the caller flushes it if the socket takes it).
  public mutating func checkDeadlines(now: UInt64) -> CloseReason? {
    if !output.isEmpty {
      if now - lastWriteProgress > limits.sendTimeout.nanoseconds { return .sendTimeout }
      return nil
    }
    // Reading stopped on searchd's account: neither deadline is the peer's to meet.
    if readPaused || yielded { return nil }
    if let started = frameStartedAt, isHealthy {
      if now - started > limits.requestTimeout.nanoseconds {
        fail(
          WireError(.timeout, "the request was not complete within the request timeout", closesConnection: true),
          now: now)
        return .protocolError(.timeout)
      }
      return nil
    }
    let idle = limits.idleTimeout.nanoseconds
    if idle > 0 && isHealthy && now - lastActivity > idle { return .idle }
    return nil
  }
}
