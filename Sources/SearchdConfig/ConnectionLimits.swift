/// Per-connection limits and timeouts; flags set them, every loop shares them.
public struct ConnectionLimits: Sendable, Equatable {
  /// Bytes asked of read(2) per wakeup.
  public var readChunk = 65_536
  /// Above this many reply bytes queued, stop reading and decoding that connection…
  public var highWatermark = 65_536
  /// …until the queue drains to this.
  public var lowWatermark = 32_768
  /// No frame in progress and nothing to send for this long: close silently. 0 = never.
  public var idleTimeout: Duration = .seconds(60)
  /// From a frame's first byte to its last; not reset by each byte, so a trickle cannot hold a slot.
  public var requestTimeout: Duration = .seconds(10)
  /// Replies pending with no write progress for this long: the peer is not reading.
  public var sendTimeout: Duration = .seconds(30)
  /// Requests answered per connection per loop turn before the others get theirs.
  public var requestsPerWakeup = 20
  /// Replies queued and not yet written, above which that connection is not read.
  public var maxInFlight = 64
  /// Reply bytes one connection may have queued; only one huge reply can pass the
  /// high watermark by this much, and it is refused instead of buffered.
  public var maxOutputBytes = 4 << 20
  /// Close once every request received is answered, as the tutorial's reference server
  /// does (it closes after one reply): one-shot clients then cost the server no wakeup
  /// for their close, but the server's side of each connection waits in TIME_WAIT.
  public var closeAfterReply = false

  public init() {}
}

extension Duration {
  public var nanoseconds: UInt64 {
    let (s, atto) = components
    return UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, atto)) / 1_000_000_000
  }
}
