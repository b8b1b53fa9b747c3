import Atomics
import SearchdWire

/// One loop's request and error counters. Only its loop writes them, so a count is a
/// relaxed load and store (no locked instruction), and they sit on cache lines of their
/// own, so loops on different cores never contend for one. Any thread may read them.
public final class RequestCounters: @unchecked Sendable {
  // @unchecked: the storage is only touched through atomic operations.
  private static let kinds = ServerStats.RequestKind.allCases.count
  private static let errorSlots = WireError.Code.allCases.count
  /// Then bytes read and bytes written.
  private static let slots = kinds + errorSlots + 2
  private static let lineBytes = 64
  private let storage: UnsafeMutablePointer<UnsafeAtomic<Int>.Storage>
  /// Where the error counters and the byte counters start, held by each instance: the
  /// statics they come from are lazy globals (allCases counted), whose once-only check
  /// would be paid on every read and write.
  private let errorBase = RequestCounters.kinds
  private let bytesBase = RequestCounters.kinds + RequestCounters.errorSlots

  public init() {
    let bytes = (Self.slots * MemoryLayout<Int>.stride + Self.lineBytes - 1) / Self.lineBytes * Self.lineBytes
    storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.lineBytes)
      .bindMemory(to: UnsafeAtomic<Int>.Storage.self, capacity: Self.slots)
    storage.initialize(repeating: UnsafeAtomic<Int>.Storage(0), count: Self.slots)
  }

  deinit {
    storage.deinitialize(count: Self.slots)
    storage.deallocate()
  }

  /// From the owning loop's thread only.
  public func count(_ kind: ServerStats.RequestKind) { bump(kind.slot) }

  /// From the owning loop's thread only.
  public func count(_ code: WireError.Code) { bump(errorBase + code.slot) }

  /// From the owning loop's thread only.
  public func received(_ bytes: Int) { bump(bytesBase, by: bytes) }
  /// From the owning loop's thread only.
  public func sent(_ bytes: Int) { bump(bytesBase + 1, by: bytes) }

  public var bytesReceived: Int { load(bytesBase) }
  public var bytesSent: Int { load(bytesBase + 1) }

  public func requests(_ kind: ServerStats.RequestKind) -> Int { load(kind.slot) }
  public func errors(_ code: WireError.Code) -> Int { load(errorBase + code.slot) }

  private func bump(_ slot: Int, by n: Int = 1) {
    let a = UnsafeAtomic<Int>(at: storage + slot)
    a.store(a.load(ordering: .relaxed) &+ n, ordering: .relaxed)
  }

  private func load(_ slot: Int) -> Int { UnsafeAtomic<Int>(at: storage + slot).load(ordering: .relaxed) }
}

extension ServerStats.RequestKind {
  fileprivate var slot: Int {
    switch self {
    case .searchHit: return 0
    case .searchMiss: return 1
    case .invalidAction: return 2
    case .binary: return 3
    case .stats: return 4
    case .suggest: return 5
    }
  }
}

extension WireError.Code {
  // Rule 1 (docs/PERFORMANCE.md): a switch, not a static; the compiler holds it to every case.
  fileprivate var slot: Int {
    switch self {
    case .badHeaderLength: return 0
    case .headerTooLarge: return 1
    case .badHeader: return 2
    case .missingHeader: return 3
    case .badContentLength: return 4
    case .contentTooLarge: return 5
    case .badJSON: return 6
    case .badRequest: return 7
    case .unsupportedEncoding: return 8
    case .timeout: return 9
    case .tooManyConnections: return 10
    case .notPermitted: return 11
    case .replyTooLarge: return 12
    case .badLimit: return 13
    case .badTypos: return 14
    case .noSuggestions: return 15
    }
  }
}
