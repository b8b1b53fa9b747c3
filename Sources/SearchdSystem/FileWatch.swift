import Glibc

/// inotify on one file, for writes into it (IN_MODIFY: write(2), truncate(2), a copy
/// over it). Readable on `descriptor` when something happened; `drain()` says whether it
/// was a write. Renaming another file over the path is not a write into this one.
public final class FileWatch {
  public let descriptor: Int32

  public init(path: String) throws(SystemError) {
    descriptor = try syscallValue("inotify_init1") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
    do {
      _ = try syscallValue("inotify_add_watch \(path)") { inotify_add_watch(descriptor, path, UInt32(IN_MODIFY)) }
    } catch {
      closeDescriptor(descriptor)
      throw error
    }
  }

  deinit { closeDescriptor(descriptor) }

  /// Reads every queued event; true if any was a write.
  public func drain() -> Bool {
    var modified = false
    // Room for many events with names (a file watch has none, but the kernel may pad).
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = buffer.withUnsafeMutableBytes { raw in
        try? syscall("read inotify") { Glibc.read(descriptor, raw.baseAddress, raw.count) }
      }
      guard case .processed(let count)? = n, count > 0 else { return modified }
      var offset = 0
      buffer.withUnsafeBytes { raw in
        while offset + MemoryLayout<inotify_event>.size <= count {
          let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
          if event.mask & UInt32(IN_MODIFY) != 0 { modified = true }
          offset += MemoryLayout<inotify_event>.size + Int(event.len)
        }
      }
    }
  }
}
