import SearchdConfig
import SearchdLoop
import SearchdWire

/// The tutorial's echo service as a state machine: every byte read is queued to be written
/// back, until the peer closes. Reading pauses while `output-high-watermark` bytes are
/// queued for a peer that does not read, and resumes below `output-low-watermark`.
struct EchoState: ConnectionMachine {
  typealias Services = Void
  let limits: ConnectionLimits
  var input = InputBuffer()
  var output = OutputQueue()
  private(set) var inputClosed = false
  private(set) var draining = false
  private(set) var readPaused = false
  /// Bytes queued to be echoed since the driver last asked (`takeEchoed`).
  private(set) var echoed = 0
  private var lastActivity: UInt64
  private var lastWriteProgress: UInt64

  init(limits: ConnectionLimits, now: UInt64) {
    self.limits = limits
    lastActivity = now
    lastWriteProgress = now
  }

  static var countsTraffic: Bool { false }
  var failure: WireError? { nil }
  var yielded: Bool { false }
  var readChunk: Int { limits.readChunk }
  var wantsInput: Bool { !inputClosed && !draining && !readPaused }

  mutating func beginTurn(budget: Int?, now: UInt64) {}

  mutating func didRead(now: UInt64) { lastActivity = now }

  mutating func didReachEndOfInput() { inputClosed = true }

  mutating func didWrite(_ count: Int, now: UInt64) {
    if count > 0 { lastWriteProgress = now }
    if readPaused && output.pendingBytes <= limits.lowWatermark { readPaused = false }
  }

  mutating func beginDrain() { draining = true }

  /// Queues what was read to be written back.
  mutating func echo(now: UInt64) {
    guard !input.isEmpty else { return }
    if output.isEmpty { lastWriteProgress = now }
    echoed += input.readableCount
    output.append(input.consume(input.readableCount))
    if output.pendingBytes >= limits.highWatermark { readPaused = true }
  }

  /// The bytes echoed since the last call.
  mutating func takeEchoed() -> Int {
    defer { echoed = 0 }
    return echoed
  }

  func nextAction() -> ConnectionAction {
    if !output.isEmpty { return .flush }
    if inputClosed { return .close(.finished) }
    if draining { return .close(.shutdown) }
    return .wait(wantsInput ? .readable : [])
  }

  var interestWhileFlushing: Interest { wantsInput ? [.readable, .writable] : .writable }

  mutating func checkDeadlines(now: UInt64) -> CloseReason? {
    if !output.isEmpty {
      return now - lastWriteProgress > limits.sendTimeout.nanoseconds ? .sendTimeout : nil
    }
    let idle = limits.idleTimeout.nanoseconds
    return idle > 0 && now - lastActivity > idle ? .idle : nil
  }

  static func serve(_ machine: inout EchoState, on conn: ConnectionDriver<EchoState>) {
    machine.echo(now: conn.context.now)
    let n = machine.takeEchoed()
    if n > 0 { conn.context.stats.echoBytes.wrappingIncrement(by: n, ordering: .relaxed) }
  }
}
