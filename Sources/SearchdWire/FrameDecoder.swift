/// One complete message: its checked header and its content.
public struct Frame: Equatable, Sendable {
  public var header: Header
  public var content: [UInt8]

  public init(header: Header, content: [UInt8]) {
    self.header = header
    self.content = content
  }
}

/// Turns a stream of bytes into frames, however the bytes are split. Pure: it
/// reads from an `InputBuffer` the caller fills, and keeps what it learned of a
/// partial message between calls.
public struct FrameDecoder: Sendable {
  // Internal rather than private so the hot path's `isAtBoundary` can be inlined across modules.
  @usableFromInline enum State: Sendable {
    case protoheader
    case header(length: Int)
    case content(Header)
  }

  public enum Result: Equatable, Sendable {
    /// A frame is not complete yet; call again when more bytes arrive.
    case needMore
    case frame(Frame)
    /// The stream cannot be framed any further; the connection must close.
    case failed(WireError)
  }

  public let limits: WireLimits
  @usableFromInline var state = State.protoheader
  @usableFromInline var failed: WireError?

  public init(limits: WireLimits = .default) {
    self.limits = limits
  }

  /// True between messages: the next byte in the buffer starts a new one.
  @inlinable public var isAtBoundary: Bool {
    // Patterns, not `failed == nil`, which copies the error on the hot path.
    guard case .protoheader = state, case .none = failed else { return false }
    return true
  }

  /// True when part of a message has been received, whether still in `buffer` or already
  /// taken from it (the length, the header): the request deadline runs.
  public func isMidFrame(_ buffer: InputBuffer) -> Bool {
    if case .protoheader = state { return !buffer.isEmpty }
    return true
  }

  /// The next message in `buffer`. Call `plainRequest` first for the common requests.
  public mutating func decode(_ buffer: inout InputBuffer) -> Result {
    if let failed { return .failed(failed) }
    while true {
      switch state {
      case .protoheader:
        guard buffer.readableCount >= 2 else { return .needMore }
        let p = buffer.peek(2)
        let length = Int(p[p.startIndex]) << 8 | Int(p[p.startIndex + 1])
        // Judge the length now: waiting for 64 KiB that will be refused anyway helps no one.
        if let refusal = limits.refusal(headerLength: length) { return fail(refusal) }
        buffer.skip(2)
        state = .header(length: length)
      case .header(let length):
        guard buffer.readableCount >= length else { return .needMore }
        do {
          let header = try Header.parse(buffer.peek(length), limits: limits)
          buffer.skip(length)
          state = .content(header)
        } catch {
          return fail(error)
        }
      case .content(let header):
        guard buffer.readableCount >= header.contentLength else { return .needMore }
        let content = buffer.consume(header.contentLength)
        state = .protoheader
        return .frame(Frame(header: header, content: content))
      }
    }
  }

  private mutating func fail(_ error: WireError) -> Result {
    failed = error
    return .failed(error)
  }
}
