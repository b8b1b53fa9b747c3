import SearchdWire

/// A buffer a loop lends to its connections.
protocol PooledBuffer {
  /// One like this that holds no memory yet (made from this one: a new one from scratch
  /// may read a lazy static, a once-check on every wakeup that gives a buffer back).
  func emptied() -> Self
  /// Nothing in it is waiting to be used, so it can go back.
  var isDrained: Bool { get }
  /// Memory it holds; 0 for one never grown.
  var heldBytes: Int { get }
}

/// A loop's spare buffers. A connection borrows one while it has bytes to hold and gives it
/// back at the end of the wakeup that emptied it, so an idle connection holds none and a busy
/// loop reuses the same few.
struct BufferPool<Buffer: PooledBuffer> {
  private var spares: [Buffer] = []
  /// A buffer grown past this is freed rather than kept.
  let largest: Int

  init(largest: Int = .max) { self.largest = largest }

  /// Gives `buffer` a spare's memory if it holds none (without a spare it grows on demand).
  mutating func lend(into buffer: inout Buffer) {
    guard buffer.heldBytes == 0, let spare = spares.popLast() else { return }
    buffer = spare
  }

  /// Takes `buffer`'s memory back if it is drained, leaving it an unallocated one.
  mutating func takeBack(_ buffer: inout Buffer) {
    guard buffer.isDrained, buffer.heldBytes > 0 else { return }
    var returned = buffer.emptied()
    swap(&returned, &buffer)
    if spares.count < 64 && returned.heldBytes <= largest { spares.append(consume returned) }
  }
}

extension InputBuffer: PooledBuffer {
  func emptied() -> InputBuffer { InputBuffer() }
  var isDrained: Bool { isEmpty }
  var heldBytes: Int { capacity }
}

extension OutputQueue: PooledBuffer {
  var isDrained: Bool { isEmpty }
}
