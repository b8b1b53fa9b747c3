/// Whether bytes are well-formed UTF-8 (RFC 3629), checked in place: ASCII eight bytes at a
/// time first (most text is, and short text is where the standard library's validator is slow).
public enum UTF8Validation {
  @inline(__always) public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    while i + 8 <= bytes.count && bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
      i += 8
    }
    while i < bytes.count && bytes[i] < 0x80 { i += 1 }
    guard i < bytes.count else { return true }
    let rest = UnsafeRawBufferPointer(rebasing: bytes[i...]).assumingMemoryBound(to: UInt8.self)
    return (try? UTF8Span(validating: rest.span)) != nil
  }
}
