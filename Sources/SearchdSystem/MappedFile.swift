import CShims
import Glibc

/// A whole file mapped read-only and shared: its pages are the page cache's, so several
/// processes mapping one file hold one copy, and none of it counts as their private
/// memory. Unmapped when the last reference goes. The descriptor is closed once mapped.
public final class MappedFile: @unchecked Sendable {
  // @unchecked: the mapping is read-only; `bytes` never changes.
  public let bytes: UnsafeRawBufferPointer

  /// Why a file could not be mapped.
  public enum OpenError: Error, CustomStringConvertible, Sendable {
    case system(SystemError)
    /// A FIFO, a device, a directory, a socket: only a regular file has a fixed size to map.
    case notRegularFile(kind: String)

    public var description: String {
      switch self {
      case .system(let error): return "\(error)"
      case .notRegularFile(let kind): return "it is \(kind), not a regular file"
      }
    }
  }

  public init(path: String) throws(OpenError) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
    let fd: Int32
    do { fd = try syscallValue("open \(path)") { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) } } catch {
      throw .system(error)
    }
    defer { closeDescriptor(fd) }
    var st = stat()
    do { _ = try syscallValue("fstat \(path)") { fstat(fd, &st) } } catch { throw .system(error) }
    guard st.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile(kind: Self.kind(st.st_mode)) }
    let length = Int(st.st_size)
    guard length > 0 else {
      bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      return
    }
    // MAP_FAILED is -1 as an address, which lets the one errno reader see it.
    let at: Int
    do {
      at = try syscallValue("mmap \(path)") { Int(bitPattern: mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0)) }
    } catch {
      throw .system(error)
    }
    bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: at), count: length)
    // A file truncated under the mapping then reads as zeros past its end, not SIGBUS.
    _ = CShims_guard_mapping(bytes.baseAddress, length)
  }

  /// Pages of guarded mappings lost to a truncation and read as zeros since start.
  public static var pagesZeroed: Int { Int(CShims_guarded_pages_zeroed()) }

  private static func kind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFIFO: return "a FIFO"
    case S_IFDIR: return "a directory"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    default: return "not a file"
    }
  }

  deinit {
    guard let at = bytes.baseAddress else { return }
    CShims_unguard_mapping(at)
    munmap(UnsafeMutableRawPointer(mutating: at), bytes.count)
  }

  /// Asks for the mapping to be made of 2 MiB pages where the page cache holds the file in
  /// 2 MiB folios (ext4 and XFS do, read ahead for a mapping so advised): a lookup in an
  /// index larger than the TLB's reach of 4 KiB pages otherwise pays a page walk per access,
  /// two-dimensional under a hypervisor. Advice only: refused or unavailable, nothing changes.
  public func preferHugePages() {
    guard let at = bytes.baseAddress else { return }
    adviseHugePages(UnsafeMutableRawPointer(mutating: at), bytes.count)
  }

  /// Tells the kernel the pages before `offset` will not be read again: read once and
  /// front to back, a large file then costs a window of memory, not its size.
  public func doneReading(before offset: Int) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let end = offset / page * page
    guard let at = bytes.baseAddress, end > 0 else { return }
    madvise(UnsafeMutableRawPointer(mutating: at), end, MADV_DONTNEED)
  }
}

/// Advice only: where the kernel cannot back a mapping with 2 MiB pages, nothing changes.
func adviseHugePages(_ at: UnsafeMutableRawPointer, _ count: Int) {
  madvise(at, count, MADV_HUGEPAGE)
}
