import SearchdWire
import Testing

@testable import SearchdServer

/// The output queue's bookkeeping: small replies copied into one buffer, large ones
/// queued by reference, in order, across partial writes.
@Suite(.timeLimit(.minutes(10))) struct OutputQueueTests {
  private func pending(_ q: OutputQueue) -> [UInt8] {
    var out: [UInt8] = []
    q.forEachPending { out += $0 }
    return out
  }

  private func reply(_ byte: UInt8, _ count: Int) -> [UInt8] { [UInt8](repeating: byte, count: count) }

  @Test func smallAndLargeRepliesStayInOrderAcrossPartialWrites() {
    var q = OutputQueue()
    let replies = [reply(1, 10), reply(2, 20), reply(3, OutputQueue.copyLimit + 1), reply(4, 5), reply(5, 3000)]
    for r in replies { q.append(r) }
    var expected = replies.flatMap { $0 }
    #expect(q.pendingBytes == expected.count && q.pendingReplies == 5)
    #expect(pending(q) == expected)
    for step in [7, 23, 1000, 1, 40, 2] {
      q.discard(step)
      expected.removeFirst(step)
      #expect(pending(q) == expected)
      #expect(q.pendingBytes == expected.count)
    }
    // 1,073 bytes written: four replies are out (they end at 10, 30, 1,055 and 1,060), the fifth began.
    #expect(q.pendingReplies == 1)
    q.append(reply(6, 4))
    expected += reply(6, 4)
    #expect(pending(q) == expected && q.pendingReplies == 2)
    q.discard(expected.count)
    #expect(q.isEmpty && q.pendingReplies == 0)
  }

  /// A peer that always has replies in flight never lets the queue empty: written bytes
  /// are still dropped, so the queue holds about what is pending, not all it ever sent.
  @Test func aQueueThatNeverEmptiesStaysBounded() {
    var q = OutputQueue()
    var expected: [UInt8] = []
    for i in 0..<20_000 {
      let r = reply(UInt8(truncatingIfNeeded: i), i % 50 == 0 ? 2000 : 97)
      q.append(r)
      expected += r
      let n = min(q.pendingBytes - 1, 150)
      q.discard(n)
      expected.removeFirst(n)
      if i % 1000 == 0 { #expect(pending(q) == expected) }
    }
    #expect(pending(q) == expected)
    #expect(q.capacity <= 4 << 16, "copied bytes kept: \(q.capacity)")
    #expect(q.pendingReplies <= expected.count)
  }

  @Test func drainedQueueReleasesOnRequest() {
    var q = OutputQueue()
    q.append(reply(1, 10))
    #expect(q.hasStorage)
    q.releaseIfEmpty()
    #expect(q.hasStorage, "not while bytes are pending")
    q.discard(10)
    q.releaseIfEmpty()
    #expect(!q.hasStorage)
  }

  /// A large answer the index owns is queued by reference: its owner lives until the
  /// last byte is written, then is let go; a small one is copied and never retained.
  /// A hit is the text the index holds with the reply's fixed parts written around it:
  /// copied when small, else queued by reference with the index kept alive until written.
  @Test func hitsKeepTheirOwnerOnlyWhileQueuedByReference() {
    final class Owner {
      let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
      init() { bytes.initializeMemory(as: UInt8.self, repeating: UInt8(ascii: "a")) }
      deinit { bytes.deallocate() }
    }
    var q = OutputQueue()
    weak var watched: Owner?
    weak var smallOwner: Owner?
    do {
      let small = Owner()
      smallOwner = small
      q.append(
        .hit(
          text: UnsafeRawBufferPointer(rebasing: small.bytes[0..<10]), owner: Unmanaged<AnyObject>.passUnretained(small)
        ))
      let owner = Owner()
      watched = owner
      q.append(.hit(text: UnsafeRawBufferPointer(owner.bytes), owner: Unmanaged<AnyObject>.passUnretained(owner)))
    }
    #expect(smallOwner == nil, "the small answer was copied: its owner is not kept")
    #expect(watched != nil, "the large answer keeps its owner")
    let small = Reply.result(String(repeating: "a", count: 10))
    let large = Reply.result(String(repeating: "a", count: 4096))
    #expect(pending(q) == small + large)
    #expect(q.pendingReplies == 2)
    q.discard(small.count + large.count - 4096 - 2)
    #expect(q.pendingReplies == 1)
    q.discard(2000)
    #expect(watched != nil)
    q.discard(4096 - 2000 + 2)
    #expect(watched == nil, "written: the owner is let go")
    #expect(q.isEmpty)
  }
}
