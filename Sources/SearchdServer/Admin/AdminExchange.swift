import SearchdConfig
import SearchdLoop
import SearchdWire

/// One exchange on the admin listener as a state machine: strict, minimal HTTP/1.1. It
/// reads one request head (at most `HTTPRequestHead.maxBytes`, within request-timeout),
/// queues the response and closes once it is written: GET and HEAD of /metrics, /healthz
/// and /readyz; anything else a 4xx. It shares nothing with the search path but the loop.
struct AdminExchange: ConnectionMachine {
  typealias Services = Void
  var input = InputBuffer()
  var output = OutputQueue()
  private let deadline: UInt64
  private let answer: (_ path: String) -> AdminRoutes.Response
  private(set) var responded = false
  private var inputClosed = false
  private var draining = false

  init(deadline: UInt64, answer: @escaping (_ path: String) -> AdminRoutes.Response) {
    self.deadline = deadline
    self.answer = answer
  }

  static var countsTraffic: Bool { false }
  var failure: WireError? { nil }
  var readPaused: Bool { false }
  var yielded: Bool { false }
  /// No more than a head may hold, and one byte to tell it is too large.
  var readChunk: Int { max(1, HTTPRequestHead.maxBytes + 1 - input.readableCount) }
  var wantsInput: Bool { !responded && !inputClosed && !draining }

  mutating func beginTurn(budget: Int?, now: UInt64) {}
  mutating func didRead(now: UInt64) {}
  mutating func didReachEndOfInput() { inputClosed = true }
  mutating func didWrite(_ count: Int, now: UInt64) {}
  mutating func beginDrain() { draining = true }

  /// Answers the head once it is whole (or refused).
  mutating func respondIfReady() {
    guard !responded else { return }
    let decoded = input.withReadableBytes { HTTPRequestHead.decode($0) }
    switch decoded {
    case .needMore: return
    case .refused(let status, let reason): respond(AdminRoutes.refusal(status, reason), head: false)
    case .head(let head, _): respond(answer(head.path), head: head.method == "HEAD")
    }
  }

  private mutating func respond(_ response: AdminRoutes.Response, head: Bool) {
    responded = true
    output.append(response.bytes(head: head))
  }

  func nextAction() -> ConnectionAction {
    if !output.isEmpty { return .flush }
    if responded { return .close(.replied) }
    if inputClosed { return .close(input.isEmpty ? .finished : .truncated) }
    if draining { return .close(.shutdown) }
    return .wait(.readable)
  }

  var interestWhileFlushing: Interest { .writable }

  /// At request-timeout: a head begun gets a 408 (flushed if the socket takes it), and
  /// the connection closes.
  mutating func checkDeadlines(now: UInt64) -> CloseReason? {
    guard now >= deadline else { return nil }
    if !responded && !input.isEmpty {
      respond(AdminRoutes.refusal(408, "the request head did not come within request-timeout"), head: false)
      return .protocolError(.timeout)
    }
    return .idle
  }

  static func serve(_ machine: inout AdminExchange, on conn: ConnectionDriver<AdminExchange>) {
    machine.respondIfReady()
  }
}
