import SearchdLoop
import SearchdWire

/// What the state machine tells its connection to do, and why a connection ends.
extension ConnectionState {
  public enum CloseReason: Equatable, Sendable, CustomStringConvertible {
    /// The peer closed its side and every request it sent was answered.
    case finished
    /// The peer closed in the middle of a message.
    case truncated
    case protocolError(WireError.Code)
    case idle
    case sendTimeout
    case shutdown
    /// close-after-reply: every request received was answered.
    case replied

    public var description: String {
      switch self {
      case .finished: return "peer closed"
      case .truncated: return "peer closed mid-message (truncated)"
      case .protocolError(let code): return "protocol error \(code.rawValue)"
      case .idle: return "idle timeout"
      case .sendTimeout: return "send timeout"
      case .shutdown: return "shutdown"
      case .replied: return "replied (close-after-reply)"
      }
    }
  }

  public enum Action: Equatable, Sendable {
    /// Replies are queued: write them.
    case flush
    case wait(Interest)
    case close(CloseReason)
  }
}
