import SearchdSystem

/// Replies waiting to be written, as whole byte arrays: a cached reply is queued
/// by reference, never copied, and several are gathered into one writev.
struct OutputQueue {
  fileprivate var chunks: [[UInt8]] = []
  fileprivate var head = 0
  /// Bytes of `chunks[head]` already written.
  fileprivate var offset = 0
  private(set) var pendingBytes = 0

  var isEmpty: Bool { pendingBytes == 0 }
  /// Replies not yet completely written.
  var pendingReplies: Int { chunks.count - head }

  mutating func append(_ bytes: [UInt8]) {
    guard !bytes.isEmpty else { return }
    chunks.append(bytes)
    pendingBytes += bytes.count
  }

  /// Gives back the memory once drained, so an idle connection holds nothing.
  mutating func releaseIfEmpty() {
    if isEmpty {
      chunks = []
      head = 0
      offset = 0
    }
  }

  /// Writes as much as the socket takes, up to `maxChunks` buffers per call.
  /// Returns the bytes written, or `.wouldBlock`.
  mutating func write(to socket: Socket, maxChunks: Int = 64) throws(SystemError) -> IOResult<Int> {
    guard !isEmpty else { return .processed(0) }
    let end = min(chunks.count, head + maxChunks)
    let result = try socket.write(gathering: chunks[head..<end], firstOffset: offset)
    if case .processed(let n) = result { consume(n) }
    return result
  }

  fileprivate mutating func consume(_ written: Int) {
    var n = written
    pendingBytes -= n
    while n > 0 {
      let left = chunks[head].count - offset
      if n >= left {
        n -= left
        head += 1
        offset = 0
      } else {
        offset += n
        n = 0
      }
    }
    if head == chunks.count {
      chunks.removeAll(keepingCapacity: true)
      head = 0
    } else if head > 32 {
      chunks.removeFirst(head)
      head = 0
    }
  }
}

extension OutputQueue {
  /// Every unwritten byte, chunk by chunk (for tests and diagnostics).
  func forEachPending(_ body: (ArraySlice<UInt8>) -> Void) {
    for i in head..<chunks.count { body(chunks[i][(i == head ? offset : 0)...]) }
  }

  /// Marks `n` bytes written without a socket (for tests).
  mutating func discard(_ n: Int) { consume(n) }
}
