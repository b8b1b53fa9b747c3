/// Bytes received and not yet decoded. Grows with the data that actually
/// arrives, never with a length a peer declares.
public struct InputBuffer: Sendable {
  // Internal rather than private so the hot path's accessors can be inlined across modules.
  @usableFromInline var storage: [UInt8] = []
  @usableFromInline var reader = 0
  @usableFromInline var writer = 0

  public init() {}

  @inlinable public var readableCount: Int { writer - reader }
  @inlinable public var isEmpty: Bool { writer == reader }
  /// Bytes held, including space not yet used: what an idle connection costs.
  public var capacity: Int { storage.count }

  public mutating func append(_ bytes: some Collection<UInt8>) {
    let n = bytes.count
    reserve(n)
    storage.replaceSubrange(writer..<writer + n, with: bytes)
    writer += n
  }

  /// Lets `body` write up to `count` bytes (e.g. a read(2)) straight into the buffer;
  /// it returns how many it wrote.
  // Inlinable, so it is specialised where it is called (rule 6, docs/PERFORMANCE.md).
  @inlinable public mutating func write<E: Error>(
    upTo count: Int, _ body: (UnsafeMutableRawBufferPointer) throws(E) -> Int
  ) throws(E) -> Int {
    reserve(count)
    let w = writer
    var failure: E?
    let n = storage.withUnsafeMutableBytes { raw -> Int in
      do throws(E) {
        return try body(UnsafeMutableRawBufferPointer(rebasing: raw[w..<w + count]))
      } catch {
        failure = error
        return 0
      }
    }
    if let failure { throw failure }
    precondition(n >= 0 && n <= count)
    writer += n
    return n
  }

  /// Lends the unread bytes in place.
  @inlinable public func withReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try storage.withUnsafeBytes { raw in try body(UnsafeRawBufferPointer(rebasing: raw[reader..<writer])) }
  }

  /// The first `n` unread bytes (n ≤ readableCount).
  public func peek(_ n: Int) -> ArraySlice<UInt8> { storage[reader..<reader + n] }

  public mutating func consume(_ n: Int) -> [UInt8] {
    let out = Array(storage[reader..<reader + n])
    skip(n)
    return out
  }

  @inlinable public mutating func skip(_ n: Int) {
    precondition(n <= readableCount)
    reader += n
    if reader == writer {
      reader = 0
      writer = 0
    }
  }

  @usableFromInline mutating func reserve(_ n: Int) {
    if storage.count - writer >= n { return }
    if reader > 0 {
      // Move the unread tail to the front before growing.
      storage.withUnsafeMutableBytes { raw in
        raw.baseAddress!.copyMemory(from: raw.baseAddress! + reader, byteCount: writer - reader)
      }
      writer -= reader
      reader = 0
      if storage.count - writer >= n { return }
    }
    var newSize = max(storage.count, 1024)
    while newSize - writer < n { newSize *= 2 }
    // One memset-backed allocation and one copy: appending a repeated element goes
    // byte by byte where the call is not specialized (20 ms for 64 KiB in a debug build).
    var grown = [UInt8](repeating: 0, count: newSize)
    let used = writer
    if used > 0 {
      grown.withUnsafeMutableBytes { dst in
        storage.withUnsafeBytes { src in dst.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: used) }
      }
    }
    storage = grown
  }
}
