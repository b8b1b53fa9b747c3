import SearchdConfig
import SearchdLoop
import SearchdWire
import Testing

@testable import SearchdServer

/// The connection state machine, driven without sockets.
@Suite(.timeLimit(.minutes(10))) struct ConnectionStateTests {
  private let second: UInt64 = 1_000_000_000

  private func state(_ configure: (inout ConnectionLimits) -> Void = { _ in }) -> ConnectionState {
    var limits = ConnectionLimits()
    configure(&limits)
    return ConnectionState(limits: limits, now: 0)
  }

  /// Echoes the request's query back as the reply, so order is visible; `batched` counts
  /// the requests answered.
  private final class Answers {
    var batched = 0
    func answer(_ query: Query) -> Answer {
      switch query {
      case .search(let q):
        batched += 1
        return .made(Array(q))
      case .binary(let c):
        batched += 1
        return .made(Array(c.prefix(1)))
      case .unknownAction(let a):
        batched += 1
        return .made(Array(a))
      case .refused(let r):
        batched += 1
        return .made(r.reply)
      case .stats:
        batched += 1
        return .made(Array("stats".utf8))
      case .suggest(let s):
        batched += 1
        return .made(Array(s.text))
      case .badEncoding(let refusal):
        batched += 1
        return .made(Reply.error(refusal.error))
      }
    }
  }

  private let answers = Answers()

  private func serve(_ s: inout ConnectionState, now: UInt64 = 0) {
    var reader = RequestReader()
    s.serve(now: now, reader: &reader, respond: answers.answer)
  }

  private func receive(_ s: inout ConnectionState, _ bytes: [UInt8], now: UInt64 = 0) {
    s.input.append(bytes)
    s.didRead(now: now)
    serve(&s, now: now)
  }

  /// Takes every queued byte as if the socket accepted all of it.
  private func drainOutput(_ s: inout ConnectionState) -> [UInt8] {
    var out: [UInt8] = []
    s.output.forEachPending { out += $0 }
    let n = s.output.pendingBytes
    s.output.discard(n)
    s.didWrite(n, now: 0)
    return out
  }

  @Test func pipelinedRequestsAreAnsweredInOrder() {
    var s = state()
    receive(&s, ["a", "b", "c"].flatMap { Request.encodeSearch($0) })
    #expect(s.nextAction() == .flush)
    #expect(drainOutput(&s) == Array("abc".utf8))
    #expect(s.nextAction() == .wait(.readable))
  }

  /// requests-per-wakeup: the rest wait in the buffer, reading stops, and a writable
  /// interest brings the connection back next turn for the next share.
  @Test func aTurnAnswersAtMostRequestsPerWakeup() {
    var s = state { $0.requestsPerWakeup = 4 }
    receive(&s, (0..<10).flatMap { Request.encodeSearch("\($0)") })
    #expect(drainOutput(&s) == Array("0123".utf8))
    #expect(s.yielded && !s.wantsInput)
    #expect(s.nextAction() == .wait(.writable))
    s.beginTurn(now: 0)
    serve(&s, now: 0)
    #expect(drainOutput(&s) == Array("4567".utf8))
    s.beginTurn(now: 0)
    serve(&s, now: 0)
    #expect(drainOutput(&s) == Array("89".utf8))
    #expect(!s.yielded)
    #expect(s.nextAction() == .wait(.readable))
  }

  /// max-in-flight: replies not yet written stop reading and decoding; nothing is dropped.
  @Test func unwrittenRepliesPauseReadingAtMaxInFlight() {
    var s = state {
      $0.maxInFlight = 3
      $0.requestsPerWakeup = 100
    }
    receive(&s, (0..<5).flatMap { Request.encodeSearch("\($0)") })
    #expect(s.output.pendingReplies == 3)
    #expect(s.readPaused && !s.wantsInput)
    #expect(drainOutput(&s) == Array("012".utf8))
    #expect(!s.readPaused)
    serve(&s, now: 0)
    #expect(drainOutput(&s) == Array("34".utf8))
  }

  /// max-output-bytes: a reply larger than the limit is refused, never buffered.
  @Test func aHugeReplyIsRefusedAndCloses() {
    var s = state { $0.maxOutputBytes = 100_000 }
    s.input.append(Request.encodeSearch("x"))
    var reader = RequestReader()
    s.serve(now: 0, reader: &reader) { _ in .made([UInt8](repeating: 1, count: 200_000)) }
    let out = drainOutput(&s)
    #expect(String(decoding: out, as: UTF8.self).contains("reply-too-large"))
    #expect(out.count < 1000)
    #expect(s.nextAction() == .close(.protocolError(.replyTooLarge)))
  }

  @Test func contentErrorRepliesAndKeepsServing() {
    var s = state()
    receive(
      &s, Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: [1]) + Request.encodeSearch("z"))
    let out = drainOutput(&s)
    #expect(String(decoding: out, as: UTF8.self).contains("bad-json"))
    #expect(out.suffix(1) == [UInt8(ascii: "z")])
    #expect(s.nextAction() == .wait(.readable))
  }

  @Test func framingErrorRepliesThenCloses() {
    var s = state()
    receive(&s, Request.encodeSearch("a") + [0, 0] + Request.encodeSearch("never"))
    #expect(!s.wantsInput)
    let out = String(decoding: drainOutput(&s), as: UTF8.self)
    #expect(out.hasPrefix("a"))
    #expect(out.contains("bad-header-length"))
    #expect(!out.contains("never"))
    #expect(s.nextAction() == .close(.protocolError(.badHeaderLength)))
  }

  @Test func endOfInputAfterWholeRequestsAnswersThenCloses() {
    var s = state()
    receive(&s, Request.encodeSearch("a"))
    s.didReachEndOfInput()
    #expect(s.nextAction() == .flush)
    _ = drainOutput(&s)
    #expect(s.nextAction() == .close(.finished))
  }

  @Test func endOfInputMidMessageIsTruncated() {
    var s = state()
    receive(&s, Array(Request.encodeSearch("a").prefix(20)))
    s.didReachEndOfInput()
    #expect(s.nextAction() == .close(.truncated))
  }

  /// A search whose header is written with an escape (no cached header stands for it).
  private static func escapedHeaderSearch(_ query: String) -> [UInt8] {
    let content = Array(#"{"action": "search", "value": "\#(query)"}"#.utf8)
    let header = Array(
      (#"{"byteorder": "l\u0069ttle", "content-type": "text/json", "content-encoding": "utf-8", "content-length": "#
        + "\(content.count)}").utf8)
    return [UInt8(header.count >> 8), UInt8(header.count & 0xFF)] + header + content
  }

  private static func headerEnd(_ request: [UInt8]) -> Int { 2 + (Int(request[0]) << 8 | Int(request[1])) }

  /// A stream that ends after a whole header is cut short too, a plain header or one
  /// written with escapes alike: the reader waits with the bytes in the buffer.
  @Test(arguments: [false, true])
  func endOfInputAfterAWholeHeaderIsTruncated(escaped: Bool) {
    var s = state()
    let req = escaped ? Self.escapedHeaderSearch("a") : Request.encodeSearch("a")
    receive(&s, Array(req.prefix(Self.headerEnd(req))))
    #expect(s.input.readableCount == Self.headerEnd(req))
    s.didReachEndOfInput()
    #expect(s.nextAction() == .close(.truncated))
  }

  @Test func backpressurePausesReadingAndResumesBelowTheLowWatermark() {
    var s = state {
      $0.highWatermark = 10
      $0.lowWatermark = 5
    }
    receive(&s, (0..<20).flatMap { _ in Request.encodeSearch("0123456789") })
    #expect(s.readPaused)
    #expect(!s.wantsInput)
    #expect(s.output.pendingBytes == 10)  // one reply queued; the other 19 wait undecoded
    var replies = drainOutput(&s)
    #expect(!s.readPaused)
    for _ in 0..<19 {
      serve(&s, now: 0)
      replies += drainOutput(&s)
    }
    #expect(replies == Array(String(repeating: "0123456789", count: 20).utf8))
  }

  /// A byte every 2 s keeps the connection from being idle, but not the request from
  /// its deadline: 10 s after the first byte.
  @Test func requestDeadlineRunsFromTheFirstByteNotTheLast() {
    var s = state { $0.requestTimeout = .seconds(10) }
    let req = Request.encodeSearch("slow")
    for (i, b) in req.prefix(6).enumerated() {
      receive(&s, [b], now: UInt64(i) * 2 * second)
      #expect(s.checkDeadlines(now: UInt64(i) * 2 * second) == nil, "byte \(i) at \(2 * i) s")
    }
    #expect(s.checkDeadlines(now: 10 * second) == nil)
    #expect(s.checkDeadlines(now: 10 * second + 1) == .protocolError(.timeout))
    #expect(String(decoding: drainOutput(&s), as: UTF8.self).contains("\"error\": \"timeout\""))
  }

  /// The stalls: only the 2-byte length, a whole header without its content, and a whole
  /// header written with escapes. Each is refused at the request timeout.
  @Test(arguments: ["length", "header", "decoded header"])
  func aStallAfterTheLengthOrTheHeaderHitsTheRequestTimeout(stall: String) {
    var s = state {
      $0.requestTimeout = .seconds(10)
      $0.idleTimeout = .seconds(60)
    }
    let req = stall == "decoded header" ? Self.escapedHeaderSearch("stall") : Request.encodeSearch("stall")
    let prefix = stall == "length" ? Array(req.prefix(2)) : Array(req.prefix(Self.headerEnd(req)))
    receive(&s, prefix, now: second)
    #expect(s.input.readableCount == prefix.count, "the reader waits with the bytes it has")
    #expect(s.checkDeadlines(now: 11 * second) == nil)
    #expect(s.checkDeadlines(now: 11 * second + 1) == .protocolError(.timeout))
  }

  /// While searchd has stopped reading (output backlogged), the peer cannot finish its
  /// message: that wait is not charged to the request deadline, only the send timeout runs.
  @Test func theRequestDeadlineDoesNotRunWhileReadingIsPaused() {
    var s = state {
      $0.maxInFlight = 2
      $0.requestTimeout = .seconds(3)
      $0.sendTimeout = .seconds(30)
    }
    let next = Request.encodeSearch("c")
    receive(&s, Request.encodeSearch("a") + Request.encodeSearch("b") + next.prefix(5), now: 0)
    #expect(s.readPaused)
    #expect(s.checkDeadlines(now: 20 * second) == nil, "paused: the send timeout is 30 s")
    var out: [UInt8] = []
    s.output.forEachPending { out += $0 }
    s.output.discard(s.output.pendingBytes)
    s.didWrite(out.count, now: 20 * second)
    #expect(out == Array("ab".utf8))
    #expect(!s.readPaused)
    #expect(s.checkDeadlines(now: 23 * second) == nil, "a whole request timeout from the resume")
    #expect(s.checkDeadlines(now: 23 * second + 1) == .protocolError(.timeout))
  }

  /// A turn that yielded waits for the socket to be writable: a message half here is not
  /// charged for that wait, nor is the connection idle meanwhile.
  @Test func aYieldedTurnStopsTheRequestClock() {
    var s = state {
      $0.requestsPerWakeup = 1
      $0.requestTimeout = .seconds(2)
      $0.idleTimeout = .seconds(1)
    }
    receive(&s, Request.encodeSearch("a") + Request.encodeSearch("b").prefix(5), now: 0)
    #expect(drainOutput(&s) == [UInt8(ascii: "a")])
    #expect(s.yielded)
    #expect(s.checkDeadlines(now: 10 * second) == nil)
    s.beginTurn(now: 10 * second)
    serve(&s, now: 10 * second)
    #expect(s.checkDeadlines(now: 12 * second) == nil)
    #expect(s.checkDeadlines(now: 12 * second + 1) == .protocolError(.timeout))
  }

  @Test func idleConnectionIsClosedSilently() {
    var s = state { $0.idleTimeout = .seconds(1) }
    receive(&s, Request.encodeSearch("a"))
    _ = drainOutput(&s)
    #expect(s.checkDeadlines(now: second / 2) == nil)
    #expect(s.checkDeadlines(now: 2 * second) == .idle)
    #expect(s.output.isEmpty)
  }

  @Test func idleTimeoutZeroMeansNever() {
    var s = state { $0.idleTimeout = .zero }
    #expect(s.checkDeadlines(now: 1_000_000 * second) == nil)
  }

  @Test func peerThatDoesNotReadHitsTheSendTimeout() {
    var s = state { $0.sendTimeout = .seconds(30) }
    receive(&s, Request.encodeSearch("a"))
    #expect(s.checkDeadlines(now: 29 * second) == nil)
    #expect(s.checkDeadlines(now: 31 * second) == .sendTimeout)
  }

  @Test func drainAnswersWhatArrivedThenCloses() {
    var s = state()
    receive(&s, Request.encodeSearch("a"))
    s.beginDrain()
    #expect(!s.wantsInput)
    #expect(drainOutput(&s) == [UInt8(ascii: "a")])
    #expect(s.nextAction() == .close(.shutdown))
  }

  /// close-after-reply: pipelined requests are all answered before the close, and a
  /// request still arriving holds the close off until it is answered too.
  @Test func closeAfterReplyClosesOnceEverythingReceivedIsAnswered() {
    var s = state { $0.closeAfterReply = true }
    #expect(s.nextAction() == .wait(.readable), "nothing answered yet")
    let second = Request.encodeSearch("b")
    receive(&s, Request.encodeSearch("a") + second.prefix(5))
    #expect(drainOutput(&s) == [UInt8(ascii: "a")])
    #expect(s.nextAction() == .wait(.readable), "a request is half here")
    receive(&s, Array(second.dropFirst(5)))
    #expect(drainOutput(&s) == [UInt8(ascii: "b")])
    #expect(s.nextAction() == .close(.replied))
  }

  // MARK: one borrow of the input, many requests

  /// Requests pipelined in one read are answered in order, within the turn's budget,
  /// whatever their encoding.
  @Test func aBatchKeepsOrderAcrossEncodings() {
    var s = state { $0.requestsPerWakeup = 5 }
    let utf16 = #"{"action":"search","value":"x"}"#.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    let other = Message.encode(contentType: "text/json", contentEncoding: "UTF-16LE", content: utf16)
    receive(&s, Request.encodeSearch("a") + Request.encodeSearch("b") + other + Request.encodeSearch("c"))
    #expect(drainOutput(&s) == Array("abxc".utf8))
    #expect(answers.batched == 4)
  }

  /// The budget holds inside a batch: the sixth search waits for the next turn.
  @Test func aBatchStopsAtTheBudget() {
    var s = state { $0.requestsPerWakeup = 5 }
    receive(&s, (0..<6).flatMap { Request.encodeSearch("\($0)") })
    #expect(drainOutput(&s) == Array("01234".utf8))
    #expect(s.yielded)
    s.beginTurn(now: 0)
    serve(&s)
    #expect(drainOutput(&s) == Array("5".utf8))
    #expect(answers.batched == 6)
  }

  /// max-output-bytes holds for an answer in the middle of a batch.
  @Test func aBatchedAnswerOverMaxOutputBytesIsRefused() {
    var s = state {
      $0.maxOutputBytes = 100_000
      $0.highWatermark = 65_536
    }
    s.input.append(Request.encodeSearch("x"))
    var reader = RequestReader()
    s.serve(now: 0, reader: &reader) { query in
      if case .search = query { return .made([UInt8](repeating: 1, count: 200_000)) }
      return .made([])
    }
    #expect(String(decoding: drainOutput(&s), as: UTF8.self).contains("reply-too-large"))
    #expect(s.nextAction() == .close(.protocolError(.replyTooLarge)))
  }

  /// A batch stops at max-in-flight and reading pauses.
  @Test func aBatchStopsAtMaxInFlight() {
    var s = state {
      $0.maxInFlight = 3
      $0.requestsPerWakeup = 100
    }
    receive(&s, (0..<5).flatMap { Request.encodeSearch("\($0)") })
    #expect(s.output.pendingReplies == 3)
    #expect(s.readPaused)
    #expect(answers.batched == 3)
  }
}
