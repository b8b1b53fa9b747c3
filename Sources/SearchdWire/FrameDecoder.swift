/// One complete message: its checked header and its content.
public struct Frame: Equatable, Sendable {
  public var header: Header
  public var content: [UInt8]

  public init(header: Header, content: [UInt8]) {
    self.header = header
    self.content = content
  }
}

/// Frames out of a byte stream for a client (searchctl, the tests): `FrameReader`'s rules,
/// with each frame copied out of the buffer.
public struct FrameDecoder: Sendable {
  public enum Result: Equatable, Sendable {
    /// A frame is not complete yet; call again when more bytes arrive.
    case needMore
    case frame(Frame)
    /// The stream cannot be framed any further; the connection must close.
    case failed(WireError)
  }

  private var reader: FrameReader
  private var failed: WireError?

  public init(limits: WireLimits = .default) { reader = FrameReader(limits: limits) }

  /// The next message in `buffer`, taken out of it.
  public mutating func decode(_ buffer: inout InputBuffer) -> Result {
    if let failed { return .failed(failed) }
    let result = buffer.withReadableBytes { bytes -> (Result, Int) in
      switch reader.next(in: bytes) {
      case .incomplete: return (.needMore, 0)
      case .failed: return (.failed(reader.failure!), 0)
      case .frame(let head, let content):
        func field(_ i: Int) -> String? { reader.field(i).map { String(decoding: $0, as: UTF8.self) } }
        let header = Header(
          contentLength: head.contentLength, byteorder: field(0), contentType: field(1), contentEncoding: field(2))
        return (.frame(Frame(header: header, content: Array(bytes[content]))), content.upperBound)
      }
    }
    if case .failed(let error) = result.0 { failed = error }
    buffer.skip(result.1)
    return result.0
  }
}
