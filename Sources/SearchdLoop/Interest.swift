import SearchdSystem

/// What a handler asks to hear of, and what the loop tells it is ready: readiness in the
/// loop's own terms (as NIO's `SelectorEventSet`, Redis's `AE_READABLE`), so no handler
/// names an epoll bit.
public struct Interest: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  /// Bytes, the end of the stream or an error wait to be read (or, on a listener, a connection).
  public static let readable = Interest(rawValue: 1)
  /// The socket takes more bytes (or has failed, which the write reports).
  public static let writable = Interest(rawValue: 2)
}

extension Interest {
  /// The epoll set to register. A peer's half-close is asked for only with readable: the
  /// kernel reports it as long as it lasts, which would wake a handler not reading. An
  /// exclusive registration (a listener) takes no EPOLLRDHUP: epoll_ctl refuses it there.
  func epollEvents(exclusive: Bool) -> EpollEvents {
    var e: EpollEvents = []
    if contains(.readable) { e.insert(exclusive ? .readable : [.readable, .readHangup]) }
    if contains(.writable) { e.insert(.writable) }
    if exclusive { e.insert(.exclusive) }
    return e
  }

  /// What epoll reported, as the handler acts on it: a hang-up or an error is both
  /// readable and writable, so whichever call the handler makes next reports it.
  init(ready: EpollEvents) {
    var i: Interest = []
    if !ready.isDisjoint(with: [.readable, .readHangup, .hangup, .error]) { i.insert(.readable) }
    if !ready.isDisjoint(with: [.writable, .hangup, .error]) { i.insert(.writable) }
    self = i
  }
}
