import Glibc

/// Writes a file whole or not at all: into a temporary file beside it, synced, then renamed
/// over the target, and the folder synced. A reader (a daemon reloading) sees the old file
/// or the new one, never half of one, even across a crash.
public enum AtomicFile {
  public static func write(_ bytes: UnsafeRawBufferPointer, to path: String, mode: mode_t = 0o644) throws(SystemError) {
    let (folder, name) = split(path)
    let temporary = "\(folder)/.\(name).\(getpid()).tmp"
    let fd = try syscallValue("open \(temporary)") {
      open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
    }
    var isOpen = true
    do throws(SystemError) {
      var at = 0
      while at < bytes.count {
        let n = try syscallValue("write \(temporary)") { Glibc.write(fd, bytes.baseAddress! + at, bytes.count - at) }
        at += n
      }
      _ = try syscallValue("fsync \(temporary)") { fsync(fd) }
      closeDescriptor(fd)
      isOpen = false
      _ = try syscallValue("rename \(temporary) to \(path)") { rename(temporary, path) }
    } catch {
      if isOpen { closeDescriptor(fd) }
      unlink(temporary)
      throw error
    }
    try syncFolder(of: path)
  }

  /// The folder holding `path` and its name there.
  static func split(_ path: String) -> (folder: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let folder = String(path[..<slash])
    return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
  }

  /// Syncs the folder holding `path`, so a rename into it survives a crash.
  static func syncFolder(of path: String) throws(SystemError) {
    let folder = split(path).folder
    let dir = try syscallValue("open \(folder)") { open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    defer { closeDescriptor(dir) }
    _ = try syscallValue("fsync \(folder)") { fsync(dir) }
  }
}
