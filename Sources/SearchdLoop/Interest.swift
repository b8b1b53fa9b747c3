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
    var raw: UInt32 = 0
    if contains(.readable) {
      raw |= EpollEvents.readable.rawValue | (exclusive ? 0 : EpollEvents.readHangup.rawValue)
    }
    if contains(.writable) { raw |= EpollEvents.writable.rawValue }
    if exclusive { raw |= EpollEvents.exclusive.rawValue }
    return EpollEvents(rawValue: raw)
  }

  /// Reads epoll's reports as handlers act on them: a hang-up or an error is both readable
  /// and writable, so whichever call the handler makes next reports it. The loop holds
  /// one, with its masks (rule 1, docs/PERFORMANCE.md).
  struct Translation {
    private let readableMask =
      EpollEvents.readable.rawValue | EpollEvents.readHangup.rawValue
      | EpollEvents.hangup.rawValue | EpollEvents.error.rawValue
    private let writableMask =
      EpollEvents.writable.rawValue | EpollEvents.hangup.rawValue
      | EpollEvents.error.rawValue

    // Masks, not `isDisjoint(with: [...])`: rule 6 (docs/PERFORMANCE.md).
    @inline(__always) func interest(_ ready: EpollEvents) -> Interest {
      let r = ready.rawValue
      var raw: UInt8 = 0
      if r & readableMask != 0 { raw |= Interest.readable.rawValue }
      if r & writableMask != 0 { raw |= Interest.writable.rawValue }
      return Interest(rawValue: raw)
    }
  }
}
