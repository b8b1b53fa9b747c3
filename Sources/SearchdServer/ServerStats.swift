import Atomics
import SearchdWire

/// Counters every loop bumps; relaxed atomics, read by status and stats.
public final class ServerStats: Sendable {
  public enum RequestKind: String, CaseIterable, Sendable {
    case searchHit = "search_hit"
    case searchMiss = "search_miss"
    case invalidAction = "invalid_action"
    case binary = "binary"
    case stats = "stats"
  }

  public let connectionsCurrent = ManagedAtomic<Int>(0)
  public let connectionsTotal = ManagedAtomic<Int>(0)
  public let connectionsRejected = ManagedAtomic<Int>(0)
  public let echoBytes = ManagedAtomic<Int>(0)
  public let idleKicks = ManagedAtomic<Int>(0)
  public let timeouts = ManagedAtomic<Int>(0)
  /// Connections closed because the peer stopped reading its replies.
  public let sendTimeouts = ManagedAtomic<Int>(0)
  public let acceptErrors = ManagedAtomic<Int>(0)
  /// Accepts that failed for want of descriptors (EMFILE/ENFILE).
  public let emfileEvents = ManagedAtomic<Int>(0)
  /// Times a connection stopped reading because its replies piled up (backpressure).
  public let outputPaused = ManagedAtomic<Int>(0)
  /// Times a connection used up its requests-per-wakeup and let the others go first.
  public let requestYields = ManagedAtomic<Int>(0)
  private let requests: [ManagedAtomic<Int>]
  private let errors: [ManagedAtomic<Int>]
  public let startedAt: UInt64

  public init(startedAt: UInt64) {
    self.startedAt = startedAt
    requests = RequestKind.allCases.map { _ in ManagedAtomic(0) }
    errors = WireError.Code.allCases.map { _ in ManagedAtomic(0) }
  }

  // `allCases` builds a new array at every use: look the counters up in one built once.
  private static let kinds = RequestKind.allCases
  private static let codes = WireError.Code.allCases

  public func count(_ kind: RequestKind) {
    requests[Self.kinds.firstIndex(of: kind)!].wrappingIncrement(ordering: .relaxed)
  }

  public func count(_ code: WireError.Code) {
    errors[Self.codes.firstIndex(of: code)!].wrappingIncrement(ordering: .relaxed)
  }

  public func requests(_ kind: RequestKind) -> Int {
    requests[Self.kinds.firstIndex(of: kind)!].load(ordering: .relaxed)
  }

  public func errors(_ code: WireError.Code) -> Int {
    errors[Self.codes.firstIndex(of: code)!].load(ordering: .relaxed)
  }

  public var requestsServed: Int { RequestKind.allCases.reduce(0) { $0 + requests($1) } + errorsTotal }
  public var errorsTotal: Int { WireError.Code.allCases.reduce(0) { $0 + errors($1) } }
}

/// One loop's share of the work, for per-loop figures.
public final class LoopStats: Sendable {
  public let connections = ManagedAtomic<Int>(0)
  public let accepted = ManagedAtomic<Int>(0)
  public init() {}
}
