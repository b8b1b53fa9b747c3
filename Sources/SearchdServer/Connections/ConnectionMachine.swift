import SearchdLoop
import SearchdWire

/// Why a connection ends.
public enum CloseReason: Equatable, Sendable, CustomStringConvertible {
  /// The peer closed its side and every request it sent was answered.
  case finished
  /// The peer closed in the middle of a message.
  case truncated
  case protocolError(WireError.Code)
  case idle
  case sendTimeout
  case shutdown
  /// Every request received was answered and the protocol ends there (close-after-reply,
  /// an admin response): the peer gets a FIN first.
  case replied

  public var description: String {
    switch self {
    case .finished: return "peer closed"
    case .truncated: return "peer closed mid-message (truncated)"
    case .protocolError(let code): return "protocol error \(code.rawValue)"
    case .idle: return "idle timeout"
    case .sendTimeout: return "send timeout"
    case .shutdown: return "shutdown"
    case .replied: return "replied"
    }
  }
}

/// What a state machine tells its driver to do next.
public enum ConnectionAction: Equatable, Sendable {
  /// Replies are queued: write them.
  case flush
  case wait(Interest)
  case close(CloseReason)
}

/// A protocol served over a connection (search, echo, admin), as a state machine that
/// never touches a socket: it takes what happened (bytes read, bytes written, the end of
/// input, time passing) and says what to do next. `ConnectionDriver` does the I/O, the
/// interest, the flow-control counts and the close, once for every protocol.
protocol ConnectionMachine {
  /// What serving uses of the loop besides the driver's context.
  associatedtype Services
  var input: InputBuffer { get set }
  var output: OutputQueue { get set }
  /// More bytes should be read from the peer.
  var wantsInput: Bool { get }
  /// Reading stopped because too much is queued for the peer (counted once per pause).
  var readPaused: Bool { get }
  /// The turn's budget ran out with requests still buffered (counted once per turn).
  var yielded: Bool { get }
  /// Bytes to ask of the next read.
  var readChunk: Int { get }
  /// The protocol error that ends the connection, reported at its close.
  var failure: WireError? { get }
  /// The bytes read and written count in the daemon's traffic figures (the search protocol's).
  static var countsTraffic: Bool { get }

  mutating func beginTurn(budget: Int?, now: UInt64)
  mutating func didRead(now: UInt64)
  mutating func didReachEndOfInput()
  mutating func didWrite(_ count: Int, now: UInt64)
  /// Stop taking requests; answer the ones received, then close.
  mutating func beginDrain()
  func nextAction() -> ConnectionAction
  /// After a flush that would block: the readiness to wait for.
  var interestWhileFlushing: Interest { get }
  /// A close if a deadline has passed (a reply saying so may be queued first).
  mutating func checkDeadlines(now: UInt64) -> CloseReason?
  /// Serves what is buffered: the protocol's own step, with what its loop lends it.
  static func serve(_ machine: inout Self, on conn: ConnectionDriver<Self>)
}
