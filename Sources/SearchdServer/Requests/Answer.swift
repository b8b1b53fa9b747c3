import SearchdWire

/// What to send for one request: a reply encoded with the index (bytes the index owns:
/// nothing is retained unless the queue keeps them by reference), or bytes made for this
/// request. The connection queues it (copied if small, by reference if large).
public enum Answer {
  case stored(UnsafeRawBufferPointer, owner: Unmanaged<AnyObject>)
  case made([UInt8])

  @inline(__always) public var count: Int {
    switch self {
    case .stored(let b, _): return b.count
    case .made(let b): return b.count
    }
  }

  /// A copy of the bytes, for tests and diagnostics.
  public var copiedBytes: [UInt8] {
    switch self {
    case .stored(let b, _): return Array(b)
    case .made(let b): return b
    }
  }
}

/// What the decoder handed over: a plain search recognised in place (its query's bytes,
/// valid for the call), or a whole frame for the full parse.
public enum Query {
  case search(UnsafeRawBufferPointer)
  case frame(Frame)
}
