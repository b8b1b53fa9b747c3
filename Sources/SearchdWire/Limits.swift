/// Size limits the codec enforces. Parameters, not constants: the daemon reads them from flags.
public struct WireLimits: Sendable, Equatable {
  /// The largest JSON header accepted (the 2-byte length allows 65535).
  public var maxHeaderBytes: Int
  /// The largest content accepted; a larger declared length is refused before any of it is read.
  public var maxContentLength: Int
  public var maxJSONDepth: Int

  public init(maxHeaderBytes: Int = 4096, maxContentLength: Int = 1_048_576, maxJSONDepth: Int = 512) {
    self.maxHeaderBytes = min(maxHeaderBytes, Int(UInt16.max))
    self.maxContentLength = maxContentLength
    self.maxJSONDepth = maxJSONDepth
  }

  public static let `default` = WireLimits()
}
