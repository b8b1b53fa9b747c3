import Glibc
import SearchdSystem

/// An index's bytes and what keeps them: a compiled file's read-only mapping (shared with
/// the page cache and every other process mapping it), or a buffer a JSON index was
/// compiled into. Released when the last holder lets go: a reloaded-away index is
/// unmapped once every loop and every reply still queued from it is done with it.
public final class IndexImage: @unchecked Sendable {
  // @unchecked: the bytes are never written after the image is made.
  public let bytes: UnsafeRawBufferPointer
  private let mapping: MappedFile?

  init(allocated: UnsafeMutableRawPointer, count: Int) {
    bytes = UnsafeRawBufferPointer(start: allocated, count: count)
    mapping = nil
  }

  /// A copy of `bytes` (for tests and the fuzz target: an image from anywhere).
  public convenience init(copying bytes: UnsafeRawBufferPointer) {
    let at = malloc(max(bytes.count, 1))!
    if bytes.count > 0 { at.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
    self.init(allocated: at, count: bytes.count)
  }

  init(mapping: MappedFile) {
    bytes = mapping.bytes
    self.mapping = mapping
  }

  deinit {
    if mapping == nil { free(UnsafeMutableRawPointer(mutating: bytes.baseAddress)) }
  }

  /// Whether the image lives in a file's mapping (not private memory).
  public var isMapped: Bool { mapping != nil }

  /// Writes the image to `path` whole (a temporary file renamed over it).
  public func write(to path: String) throws(SystemError) {
    try AtomicFile.write(bytes, to: path)
  }
}
