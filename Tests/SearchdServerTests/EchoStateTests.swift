import SearchdConfig
import SearchdLoop
import SearchdWire
import Testing

@testable import SearchdServer

/// The echo service's state machine, driven without sockets.
@Suite(.timeLimit(.minutes(10))) struct EchoStateTests {
  private let second: UInt64 = 1_000_000_000

  private func state(_ configure: (inout ConnectionLimits) -> Void = { _ in }) -> EchoState {
    var limits = ConnectionLimits()
    configure(&limits)
    return EchoState(limits: limits, now: 0)
  }

  private func receive(_ s: inout EchoState, _ bytes: [UInt8], now: UInt64 = 0) {
    s.input.append(bytes)
    s.didRead(now: now)
    s.echo(now: now)
  }

  /// Takes `count` queued bytes (all by default) as if the socket accepted them.
  private func write(_ s: inout EchoState, _ count: Int? = nil, now: UInt64 = 0) -> [UInt8] {
    var out: [UInt8] = []
    s.output.forEachPending { out += $0 }
    let n = count ?? s.output.pendingBytes
    s.output.discard(n)
    s.didWrite(n, now: now)
    return Array(out.prefix(n))
  }

  @Test func everyByteReadIsQueuedBackInOrderAndCounted() {
    var s = state()
    receive(&s, Array("hello ".utf8))
    receive(&s, Array("world".utf8))
    #expect(s.nextAction() == .flush)
    #expect(s.takeEchoed() == 11)
    #expect(s.takeEchoed() == 0)
    #expect(write(&s) == Array("hello world".utf8))
    #expect(s.nextAction() == .wait(.readable))
  }

  @Test func thePeersCloseEndsItOnceEverythingIsWritten() {
    var s = state()
    receive(&s, [1, 2, 3])
    s.didReachEndOfInput()
    #expect(s.nextAction() == .flush)
    _ = write(&s)
    #expect(s.nextAction() == .close(.finished))
  }

  /// Above output-high-watermark reading stops (and the driver counts a pause); it resumes
  /// at output-low-watermark, not before.
  @Test func readingPausesAtTheHighWatermarkAndResumesAtTheLow() {
    var s = state {
      $0.highWatermark = 100
      $0.lowWatermark = 40
    }
    receive(&s, [UInt8](repeating: 7, count: 120))
    #expect(s.readPaused && !s.wantsInput)
    #expect(s.interestWhileFlushing == .writable)
    _ = write(&s, 50)
    #expect(s.readPaused, "70 bytes still queued: above the low watermark")
    _ = write(&s, 30)
    #expect(!s.readPaused && s.wantsInput)
    #expect(s.interestWhileFlushing == [.readable, .writable])
  }

  @Test func aPeerThatDoesNotReadHitsTheSendTimeout() {
    var s = state { $0.sendTimeout = .seconds(5) }
    receive(&s, [1], now: second)
    #expect(s.checkDeadlines(now: 6 * second) == nil)
    #expect(s.checkDeadlines(now: 6 * second + 1) == .sendTimeout)
  }

  @Test func anIdlePeerHitsTheIdleTimeoutAndZeroMeansNever() {
    var s = state { $0.idleTimeout = .seconds(30) }
    receive(&s, [1], now: second)
    _ = write(&s, now: second)
    #expect(s.checkDeadlines(now: 31 * second) == nil)
    #expect(s.checkDeadlines(now: 31 * second + 1) == .idle)
    var never = state { $0.idleTimeout = .zero }
    #expect(never.checkDeadlines(now: 1_000_000 * second) == nil)
  }

  @Test func aDrainWritesWhatIsQueuedThenCloses() {
    var s = state()
    receive(&s, [9, 9])
    s.beginDrain()
    #expect(!s.wantsInput)
    #expect(s.nextAction() == .flush)
    _ = write(&s)
    #expect(s.nextAction() == .close(.shutdown))
  }
}
