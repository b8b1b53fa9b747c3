import SearchdIndex
import SearchdWire

/// An index together with its hit replies, encoded once when the index is built:
/// a hit is answered by queueing these shared bytes, with no encoding per request.
public final class Catalog: Sendable {
  public let index: SearchIndex
  private let hitReplies: [[UInt8]: [UInt8]]
  /// Monotonic time it took to build, for stats.
  public let buildNanoseconds: UInt64

  public init(index: SearchIndex, buildNanoseconds: UInt64 = 0) {
    self.index = index
    var replies: [[UInt8]: [UInt8]] = [:]
    replies.reserveCapacity(index.count)
    index.forEach { key, value in replies[key] = Reply.result(value) }
    self.hitReplies = replies
    self.buildNanoseconds = buildNanoseconds
  }

  public func reply(forQuery query: [UInt8]) -> [UInt8]? { hitReplies[query] }
}
