import SearchdWire
import Testing

@testable import SearchdServer

/// The connection state machine, driven without sockets.
@Suite struct ConnectionStateTests {
  private let second: UInt64 = 1_000_000_000

  private func state(_ configure: (inout ConnectionLimits) -> Void = { _ in }) -> ConnectionState {
    var limits = ConnectionLimits()
    configure(&limits)
    return ConnectionState(wire: .default, limits: limits, now: 0)
  }

  /// Echoes the request's query back as the reply, so order is visible.
  private func answer(_ frame: Frame) -> [UInt8] {
    do {
      if case .search(let q) = try Request.parse(frame) { return q }
      return Reply.error(WireError(.badRequest, "not a search", closesConnection: false))
    } catch {
      return Reply.error(error)
    }
  }

  private func receive(_ s: inout ConnectionState, _ bytes: [UInt8], now: UInt64 = 0) {
    s.input.append(bytes)
    s.didRead(bytes.count, now: now)
    s.serve(now: now, answer)
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
    #expect(s.nextAction() == .wait(.init(readable: true, writable: false)))
  }

  @Test func contentErrorRepliesAndKeepsServing() {
    var s = state()
    receive(
      &s, Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: [1]) + Request.encodeSearch("z"))
    let out = drainOutput(&s)
    #expect(String(decoding: out, as: UTF8.self).contains("bad-json"))
    #expect(out.suffix(1) == [UInt8(ascii: "z")])
    #expect(s.nextAction() == .wait(.init(readable: true, writable: false)))
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
      s.serve(now: 0, answer)
      replies += drainOutput(&s)
    }
    #expect(replies == Array(String(repeating: "0123456789", count: 20).utf8))
  }

  @Test func requestDeadlineRunsFromTheFirstByteNotTheLast() {
    var s = state { $0.requestTimeout = .seconds(10) }
    let req = Request.encodeSearch("slow")
    for (i, b) in req.prefix(8).enumerated() {
      receive(&s, [b], now: UInt64(i) * 2 * second)  // a byte every 2 s: never idle
      #expect(s.checkDeadlines(now: UInt64(i) * 2 * second) == nil || i >= 5)
    }
    #expect(s.checkDeadlines(now: 16 * second) == .protocolError(.timeout))
    #expect(String(decoding: drainOutput(&s), as: UTF8.self).contains("\"error\": \"timeout\""))
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
}
