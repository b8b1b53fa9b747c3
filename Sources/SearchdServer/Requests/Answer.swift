import SearchdWire

/// What to send for one request: a hit, its text escaped with the index (bytes the index
/// owns: nothing is retained unless the queue keeps them by reference; the frame's head
/// and the content's fixed start and end are written around them at send time), a reply
/// written straight
/// into the output (a miss, a binary echo: its parts point into the request, so it is
/// queued before the request's bytes go), or bytes made for this request.
public enum Answer {
  case hit(text: UnsafeRawBufferPointer, owner: Unmanaged<AnyObject>)
  case direct(DirectReply)
  case made([UInt8])

  @inline(__always) public var count: Int {
    switch self {
    case .hit(let t, _): return DirectReply.hitHeadCount(textLength: t.count) + t.count + DirectReply.hitTail.count
    case .direct(let d): return d.count
    case .made(let b): return b.count
    }
  }

  /// A copy of the bytes, for tests and diagnostics.
  public var copiedBytes: [UInt8] {
    switch self {
    case .hit(let t, _):
      let head = DirectReply.hitHeadCount(textLength: t.count)
      var out = [UInt8](repeating: 0, count: head)
      out.withUnsafeMutableBytes { DirectReply.writeHitHead(textLength: t.count, into: $0) }
      return out + t + DirectReply.hitTail
    case .direct(let d):
      return [UInt8](unsafeUninitializedCapacity: d.count) { buffer, initialized in
        d.write(into: UnsafeMutableRawBufferPointer(buffer))
        initialized = d.count
      }
    case .made(let b): return b
    }
  }

  /// The same answer, owning its bytes: for one that must outlive the request's buffer.
  public var materialized: Answer {
    if case .direct = self { return .made(copiedBytes) }
    return self
  }
}
