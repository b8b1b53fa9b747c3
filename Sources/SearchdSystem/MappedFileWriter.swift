import CShims
import Glibc

/// A file written through a shared mapping, as big files are built in place: the bytes go
/// straight into the page cache (no buffer of the process's own, no copy by write(2)), in
/// 2 MiB folios where the file system allows, so the daemon that maps the file next maps
/// it with 2 MiB pages (see `MappedFile.preferHugePages`).
/// It is a temporary file beside `path` until `commit` truncates it to its length, syncs
/// it and renames it over `path`; dropped uncommitted, it is removed. Space is allocated
/// as the mapping grows (fallocate), so a full disk is an error here, not a SIGBUS later.
public final class MappedFileWriter {
  public private(set) var base: UnsafeMutableRawPointer
  public private(set) var capacity: Int
  private let path: String
  private let temporary: String
  private var fd: Int32

  public init(path: String, capacity: Int) throws(SystemError) {
    self.path = path
    let (folder, name) = AtomicFile.split(path)
    temporary = "\(folder)/.\(name).\(getpid()).tmp"
    let temporary = temporary
    fd = try syscallValue("open \(temporary)") { open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
    self.capacity = max(capacity, 4096)
    base = UnsafeMutableRawPointer(bitPattern: 1)!
    do throws(SystemError) {
      try allocate(self.capacity)
      let (fd, length) = (fd, self.capacity)
      // MAP_FAILED is -1 as an address, which lets the one errno reader see it.
      let at = try syscallValue("mmap \(temporary)") {
        Int(bitPattern: mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0))
      }
      base = UnsafeMutableRawPointer(bitPattern: at)!
      adviseHugePages(base, length)
    } catch {
      closeDescriptor(fd)
      unlink(temporary)
      throw error
    }
  }

  deinit {
    guard fd >= 0 else { return }
    munmap(base, capacity)
    closeDescriptor(fd)
    unlink(temporary)
  }

  private func allocate(_ length: Int) throws(SystemError) {
    let fd = fd
    // posix_fallocate returns its error rather than setting errno.
    let r = posix_fallocate(fd, 0, off_t(length))
    if r != 0 { throw SystemError(Errno(rawValue: r), call: "fallocate \(temporary)") }
  }

  /// Makes the file and its mapping `capacity` bytes (the mapping may move).
  public func grow(to capacity: Int) throws(SystemError) {
    guard capacity > self.capacity else { return }
    try allocate(capacity)
    let (old, oldCapacity) = (base, self.capacity)
    let at = try syscallValue("mremap \(temporary)") {
      Int(bitPattern: CShims_mremap(old, oldCapacity, capacity, 1 /* MREMAP_MAYMOVE */))
    }
    base = UnsafeMutableRawPointer(bitPattern: at)!
    self.capacity = capacity
    adviseHugePages(base, capacity)
  }

  /// Cuts the file to `length`, syncs it and renames it over `path`, and the folder.
  public func commit(length: Int) throws(SystemError) {
    let fd = fd
    _ = try syscallValue("ftruncate \(temporary)") { ftruncate(fd, off_t(length)) }
    _ = try syscallValue("fsync \(temporary)") { fsync(fd) }
    let (temporary, path) = (temporary, path)
    _ = try syscallValue("rename \(temporary) to \(path)") { rename(temporary, path) }
    munmap(base, capacity)
    closeDescriptor(fd)
    self.fd = -1
    try AtomicFile.syncFolder(of: path)
  }
}
