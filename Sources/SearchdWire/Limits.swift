/// Size limits the codec enforces. Parameters, not constants: the daemon reads them from flags.
public struct WireLimits: Sendable, Equatable {
  /// The largest JSON header accepted (the 2-byte length allows 65535).
  public var maxHeaderBytes: Int
  /// The largest content accepted; a larger declared length is refused before any of it is read.
  public var maxContentLength: Int
  public var maxJSONDepth: Int
  /// The most trie nodes one suggest visits: a bound on its time, whatever it asks.
  public var suggestMaxVisits: Int

  public init(
    maxHeaderBytes: Int = 4096, maxContentLength: Int = 1_048_576, maxJSONDepth: Int = 512,
    suggestMaxVisits: Int = 50_000
  ) {
    self.maxHeaderBytes = min(maxHeaderBytes, Int(UInt16.max))
    self.maxContentLength = maxContentLength
    self.maxJSONDepth = maxJSONDepth
    self.suggestMaxVisits = suggestMaxVisits
  }

  public static let `default` = WireLimits()

  /// The one rule for a header length (the 2-byte prefix): nil if it is acceptable.
  public func refusal(headerLength length: Int) -> WireError? {
    if length == 0 { return .framing(.badHeaderLength, "the JSON header length is 0") }
    if length > maxHeaderBytes {
      return .framing(
        .headerTooLarge, "the JSON header length \(length) is over the limit of \(maxHeaderBytes) bytes")
    }
    return nil
  }

  /// The one rule for a declared content-length: nil if it is acceptable.
  public func refusal(contentLength length: Int) -> WireError? {
    guard length > maxContentLength else { return nil }
    return .framing(.contentTooLarge, "content-length \(length) is over the limit of \(maxContentLength) bytes")
  }
}
