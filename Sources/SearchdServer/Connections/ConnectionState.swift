import SearchdConfig
import SearchdLoop
import SearchdWire

/// The search protocol's connection as a state machine: it takes what happened (bytes
/// read, bytes written, end of input, time passing) and says what to do next. It never
/// touches a socket; `ConnectionDriver` does the I/O.
public struct ConnectionState {
  public typealias Action = ConnectionAction
  public typealias CloseReason = SearchdServer.CloseReason

  public let limits: ConnectionLimits
  public var input = InputBuffer()
  public var output = OutputQueue()
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

  public init(limits: ConnectionLimits, now: UInt64) {
    self.limits = limits
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

  // Static, so `serve` can ask while the input is lent out.
  private static func isBacklogged(_ output: OutputQueue, _ limits: ConnectionLimits) -> Bool {
    output.pendingBytes >= limits.highWatermark || output.pendingReplies >= limits.maxInFlight
  }

  /// Stop taking requests; answer the ones received, then close.
  public mutating func beginDrain() {
    draining = true
  }

  /// Reads the requests buffered and queues the answer `respond` gives each, in order,
  /// until the output is backlogged or the turn's budget is spent (the rest wait in
  /// `input`): one loop, from one borrow of the input.
  public mutating func serve(now: UInt64, reader: inout RequestReader, respond: (Query) -> Answer) {
    guard isHealthy else { return }
    let wasEmpty = output.isEmpty
    let budget = self.budget
    var answered = 0
    var stop = Stop.waiting
    let consumed = input.withReadableBytes { bytes in
      var at = 0
      while true {
        if Self.isBacklogged(output, limits) {
          stop = .backlogged
          break
        }
        guard answered < budget else {
          stop = at < bytes.count ? .yielded : .waiting
          break
        }
        let request: Query
        switch reader.next(in: UnsafeRawBufferPointer(rebasing: bytes[at...])) {
        case .incomplete: return at
        case .failed:
          stop = .failed
          return at
        case .request(let length, let query):
          at += length
          request = query
        }
        let answer = respond(request)
        let count = answer.count(output.shapes)
        guard output.pendingBytes + count <= limits.maxOutputBytes else {
          answered += 1
          stop = .tooLarge(count)
          break
        }
        output.append(answer, count: count)
        answered += 1
      }
      return at
    }
    input.skip(consumed)
    if answered > 0 {
      if wasEmpty { lastWriteProgress = now }
      self.budget -= answered
      answeredAny = true
      // Bytes of the next message already here arrived with this read.
      frameStartedAt = input.isEmpty ? nil : now
    }
    switch stop {
    case .waiting: frameStartedAt = input.isEmpty ? nil : (frameStartedAt ?? now)
    case .backlogged: readPaused = true
    case .yielded: yielded = true
    case .failed: fail(reader.failure!, now: now)
    case .tooLarge(let bytes):
      fail(
        WireError(.replyTooLarge, "the reply (\(bytes) bytes) is larger than max-output-bytes", closesConnection: true),
        now: now)
    }
  }

  /// No protocol error so far. (A pattern, not `failure == nil`, which copies the error.)
  private var isHealthy: Bool {
    if case .none = failure { return true }
    return false
  }

  /// Why `serve` stopped.
  private enum Stop {
    /// The next message is not whole yet.
    case waiting
    case backlogged
    /// The turn's budget is spent with requests still buffered.
    case yielded
    /// The framing is lost (the reader's `failure`).
    case failed
    /// A reply over max-output-bytes (its size): the connection fails.
    case tooLarge(Int)
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
    if inputClosed { return .close(input.isEmpty ? .finished : .truncated) }
    if draining { return .close(.shutdown) }
    if limits.closeAfterReply && answeredAny && input.isEmpty { return .close(.replied) }
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
