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

  /// Its length, in the reply shapes the output queue writes it in.
  @inline(__always) public func count(_ shapes: ReplyShapes) -> Int {
    switch self {
    case .hit(let t, _): return shapes.table.pointee.result.count(varying: t.count)
    case .direct(let d): return d.count(shapes)
    case .made(let b): return b.count
    }
  }

  /// A copy of the bytes, for tests and diagnostics.
  public var copiedBytes: [UInt8] {
    let shapes = ReplyShapes.shared
    let n = count(shapes)
    return [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
      let out = UnsafeMutableRawBufferPointer(buffer)
      switch self {
      case .hit(let t, _):
        let shape = shapes.table.pointee.result
        _ = shape.copy(
          shape.suffix, to: out, at: shape.copy(t, to: out, at: shape.writeHead(varying: t.count, into: out)))
      case .direct(let d): d.write(into: out, shapes)
      case .made(let b): b.withUnsafeBytes { out.copyBytes(from: $0) }
      }
      initialized = n
    }
  }

  /// The same answer, owning its bytes: for one that must outlive the request's buffer.
  public var materialized: Answer {
    if case .direct = self { return .made(copiedBytes) }
    return self
  }
}
