import Glibc
import SearchdSystem
import SearchdWire

/// Replies waiting to be written, in order. A small reply is copied into one contiguous
/// buffer, so a batch of pipelined replies leaves in one send of one buffer; a large one
/// is queued by reference (a hit reply straight from the index, zero-copy, its owner kept
/// alive) and gathered into the same sendmsg.
///
/// Why copy at all: rule 2 (docs/PERFORMANCE.md); above `copyLimit` the copy costs more
/// than the iovec.
public struct OutputQueue {
  /// The largest reply that is copied rather than queued by reference.
  public static let copyLimit = 1024
  private static let zeros = [UInt8](repeating: 0, count: 4096)
  /// Copied bytes beyond which written ones are dropped even if the queue never empties.
  private static let compactAbove = 1 << 16

  /// A run of queued bytes: `borrowed` bytes kept alive by `owner` (a large hit reply),
  /// or `shared` (a large reply array), or else `count` bytes of `copied` from `start`.
  private struct Segment {
    var shared: [UInt8] = []
    var borrowed: UnsafeRawPointer?
    var owner: AnyObject?
    var start: Int
    var count: Int

    var isCopied: Bool { borrowed == nil && shared.isEmpty }
  }

  /// Room for a reply is made from these zeros, and replies written in these shapes, held
  /// here by rule 1 (docs/PERFORMANCE.md).
  private let zeros: [UInt8]
  public let shapes: ReplyShapes
  private var segments: [Segment] = []
  private var head = 0
  /// Bytes of `segments[head]` already written.
  private var offset = 0
  /// The bytes of every copied segment, in queue order.
  private var copied: [UInt8] = []
  /// Cumulative byte counts at which each queued reply ends, and how many of those the
  /// socket has taken: the replies in flight, for backpressure.
  private var replyEnds: [Int] = []
  private var repliesDone = 0
  private var queuedTotal = 0
  private var writtenTotal = 0

  public private(set) var pendingBytes = 0

  public init() { (zeros, shapes) = (Self.zeros, ReplyShapes.shared) }

  private init(zeros: [UInt8], shapes: ReplyShapes) { (self.zeros, self.shapes) = (zeros, shapes) }

  /// An empty queue holding no memory, sharing these zeros and shapes.
  func emptied() -> OutputQueue { OutputQueue(zeros: zeros, shapes: shapes) }

  public var isEmpty: Bool { pendingBytes == 0 }
  /// Replies not yet completely written.
  public var pendingReplies: Int { replyEnds.count - repliesDone }
  /// Memory held: an idle connection's queue goes back to its loop's pool.
  var heldBytes: Int {
    copied.capacity + segments.capacity * MemoryLayout<Segment>.stride + replyEnds.capacity * MemoryLayout<Int>.stride
  }
  var hasStorage: Bool { heldBytes > 0 }
  /// Bytes of copy space held.
  var capacity: Int { copied.capacity }

  /// Gives back the memory once drained, so an idle connection holds nothing.
  mutating func releaseIfEmpty() {
    if isEmpty { self = emptied() }
  }

  /// Queues one reply: copied if small, by reference if not.
  public mutating func append(_ reply: [UInt8]) {
    guard !reply.isEmpty else { return }
    if reply.count <= Self.copyLimit {
      reply.withUnsafeBytes { appendCopy($0) }
    } else {
      segments.append(Segment(shared: reply, start: 0, count: reply.count))
      ended(reply.count)
    }
  }

  /// Queues an answer: stored bytes are copied if small (no retain at all), else queued
  /// by reference with their owner retained until written.
  public mutating func append(_ answer: Answer) { append(answer, count: answer.count(shapes)) }

  /// `count`: the answer's length, as the caller already measured it (a direct reply's is
  /// computed, not stored).
  @inline(__always) public mutating func append(_ answer: Answer, count: Int) {
    switch answer {
    case .made(let reply): append(reply)
    case .direct(let reply):
      let shapes = shapes
      appendCopy(count: count) { reply.write(into: $0, shapes) }
    case .hit(let text, let owner):
      // The head written in place, then the text and the tail copied after it: one copied
      // run, its segment noted once. A large text goes by reference (its owner kept alive)
      // between the head's run and the tail's.
      let shape = shapes.table.pointee.result
      var start = copied.count
      makeRoom(count - text.count - shape.suffix.count) { _ = shape.writeHead(varying: text.count, into: $0) }
      if count <= Self.copyLimit {
        copied.append(contentsOf: text)
      } else {
        copiedPart(from: start)
        segments.append(
          Segment(borrowed: text.baseAddress, owner: owner.takeUnretainedValue(), start: 0, count: text.count))
        start = copied.count
      }
      copied.append(contentsOf: shape.suffix)
      copiedPart(from: start)
      ended(count)
    }
  }

  private mutating func appendCopy(_ bytes: UnsafeRawBufferPointer) {
    guard !bytes.isEmpty else { return }
    let start = copied.count
    copied.append(contentsOf: bytes)
    copiedPart(from: start)
    ended(bytes.count)
  }

  /// `count` bytes written by `write` at the end of the copied run, as one reply.
  private mutating func appendCopy(count: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) {
    guard count > 0 else { return }
    let start = copied.count
    makeRoom(count, write)
    copiedPart(from: start)
    ended(count)
  }

  /// Grows the copied run by `count` bytes and has `write` fill them; the caller notes the
  /// run's segment.
  private mutating func makeRoom(_ count: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) {
    let start = copied.count
    // Room for the bytes, from a run of zeros (one memcpy; the element-wise append of a
    // repeated zero was most of a debug build's time per request under ThreadSanitizer).
    if count <= zeros.count {
      zeros.withUnsafeBufferPointer { copied.append(contentsOf: UnsafeBufferPointer(rebasing: $0[..<count])) }
    } else {
      copied.append(contentsOf: repeatElement(0, count: count))
    }
    copied.withUnsafeMutableBytes { write(UnsafeMutableRawBufferPointer(rebasing: $0[start..<start + count])) }
  }

  /// The copied run grew from `start`: the last segment takes the bytes if it ends there.
  private mutating func copiedPart(from start: Int) {
    let count = copied.count - start
    if head < segments.count, let last = segments.indices.last, segments[last].isCopied,
      segments[last].start + segments[last].count == start
    {
      segments[last].count += count
    } else {
      segments.append(Segment(start: start, count: count))
    }
  }

  private mutating func ended(_ count: Int) {
    pendingBytes += count
    queuedTotal += count
    replyEnds.append(queuedTotal)
  }

  /// Writes as much as the socket takes, up to `maxSegments` buffers per call.
  /// Returns the bytes written, or `.wouldBlock`.
  mutating func write(to transport: any Transport, maxSegments: Int = 64) throws(SystemError) -> IOResult<Int> {
    guard !isEmpty else { return .processed(0) }
    let end = min(segments.count, head + maxSegments)
    if end - head == 1 && segments[head].isCopied {
      // One run of copied bytes, the common case: send(2) skips sendmsg's msghdr and
      // iovec copy-in.
      let (start, count) = (segments[head].start + offset, segments[head].count - offset)
      var outcome = IOResult<Int>.wouldBlock
      var failure: SystemError?
      copied.withUnsafeBytes { bytes in
        do throws(SystemError) {
          outcome = try transport.write(UnsafeRawBufferPointer(rebasing: bytes[start..<start + count]))
        } catch {
          failure = error
        }
      }
      return try settle(outcome, failure)
    }
    var outcome = IOResult<Int>.wouldBlock
    var failure: SystemError?
    copied.withUnsafeBytes { copiedBytes in
      withUnsafeTemporaryAllocation(of: iovec.self, capacity: end - head) { iov in
        // Each shared array is kept alive, unmutated, by `segments` for the whole call,
        // so its buffer address stays valid after withUnsafeBytes returns; borrowed bytes
        // by their owner.
        for i in head..<end {
          let skip = i == head ? offset : 0
          let segment = segments[i]
          let base: UnsafeRawPointer
          if let borrowed = segment.borrowed {
            base = borrowed
          } else if segment.shared.isEmpty {
            base = copiedBytes.baseAddress! + segment.start
          } else {
            base = segment.shared.withUnsafeBytes { $0.baseAddress! }
          }
          iov[i - head] = iovec(iov_base: UnsafeMutableRawPointer(mutating: base + skip), iov_len: segment.count - skip)
        }
        do throws(SystemError) {
          outcome = try transport.writev(iov)
        } catch {
          failure = error
        }
      }
    }
    return try settle(outcome, failure)
  }

  // (Not `Result`: its initialiser is called unspecialised, looking up generic metadata
  // on every write — perf.)
  private mutating func settle(_ outcome: IOResult<Int>, _ failure: SystemError?) throws(SystemError) -> IOResult<Int> {
    if let failure { throw failure }
    if case .processed(let n) = outcome { consume(n) }
    return outcome
  }

  private mutating func consume(_ written: Int) {
    var n = written
    pendingBytes -= n
    writtenTotal += n
    while repliesDone < replyEnds.count && replyEnds[repliesDone] <= writtenTotal { repliesDone += 1 }
    while n > 0 {
      let left = segments[head].count - offset
      if n >= left {
        n -= left
        segments[head].shared = []
        segments[head].owner = nil
        head += 1
        offset = 0
      } else {
        offset += n
        n = 0
      }
    }
    if head == segments.count {
      reset()
    } else if head > 32 || copied.count > Self.compactAbove {
      compact()
    }
  }

  /// Empty: keep the capacity for the next batch.
  private mutating func reset() {
    segments.removeAll(keepingCapacity: true)
    copied.removeAll(keepingCapacity: true)
    replyEnds.removeAll(keepingCapacity: true)
    head = 0
    offset = 0
    repliesDone = 0
    queuedTotal = 0
    writtenTotal = 0
  }

  /// A queue that never empties (a peer that always has replies in flight) drops what
  /// it has written, so it stays as large as what is pending.
  private mutating func compact() {
    // A copied run moves its start; a referenced one keeps its offset.
    if segments[head].isCopied && offset > 0 {
      segments[head].start += offset
      segments[head].count -= offset
      offset = 0
    }
    segments.removeFirst(head)
    head = 0
    replyEnds.removeFirst(repliesDone)
    repliesDone = 0
    let firstCopied = segments.first { $0.isCopied }?.start ?? copied.count
    guard firstCopied > copied.count / 2 else { return }
    copied.removeFirst(firstCopied)
    for i in segments.indices where segments[i].isCopied { segments[i].start -= firstCopied }
  }
}

extension OutputQueue {
  /// Every unwritten byte, segment by segment (for tests and diagnostics).
  public func forEachPending(_ body: (ArraySlice<UInt8>) -> Void) {
    for i in head..<segments.count {
      let s = segments[i]
      let bytes: ArraySlice<UInt8>
      if let b = s.borrowed {
        bytes = ArraySlice(UnsafeRawBufferPointer(start: b, count: s.count))
      } else {
        bytes = s.isCopied ? copied[s.start..<s.start + s.count] : s.shared[...]
      }
      body(bytes.dropFirst(i == head ? offset : 0))
    }
  }

  /// Marks `n` bytes written without a socket (for tests).
  public mutating func discard(_ n: Int) { consume(n) }
}
