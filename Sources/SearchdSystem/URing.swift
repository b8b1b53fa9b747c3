import CShims
import Glibc

/// One io_uring instance (through Debian's liburing), owning its rings. Made on any
/// thread, disabled; `enable()` on the thread that will submit (single issuer), which then
/// is the only one to touch it.
package final class URing {
  private let ring: UnsafeMutablePointer<io_uring>
  private let completions: UnsafeMutablePointer<UnsafeMutablePointer<io_uring_cqe>?>
  private let batch: Int

  /// The ring flags searchd wants, then none if the kernel refuses them (before 6.1).
  package init(entries: UInt32 = 4096, batch: Int = 256) throws(SystemError) {
    ring = .allocate(capacity: 1)
    ring.initialize(to: io_uring())
    completions = .allocate(capacity: batch)
    self.batch = batch
    var params = io_uring_params()
    params.flags = UInt32(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED)
    var r = io_uring_queue_init_params(entries, ring, &params)
    if r == -EINVAL {
      params = io_uring_params()
      params.flags = UInt32(IORING_SETUP_R_DISABLED)
      r = io_uring_queue_init_params(entries, ring, &params)
    }
    if r < 0 {
      completions.deallocate()
      ring.deallocate()
      throw SystemError(Errno(rawValue: -r), call: "io_uring_setup")
    }
  }

  deinit {
    io_uring_queue_exit(ring)
    completions.deallocate()
    ring.deallocate()
  }

  /// Makes the calling thread the ring's submitter.
  package func enable() throws(SystemError) {
    let fd = ring.pointee.ring_fd
    _ = try syscallValue("io_uring_register") { CShims_io_uring_enable_rings(fd) }
  }

  /// A submission entry to fill; the queue is submitted first if it is full.
  package func entry() throws(SystemError) -> UnsafeMutablePointer<io_uring_sqe> {
    if let sqe = io_uring_get_sqe(ring) { return sqe }
    _ = try negativeErrnoCall("io_uring_enter") { io_uring_submit(ring) }
    guard let sqe = io_uring_get_sqe(ring) else { throw SystemError(.wouldBlock, call: "io_uring_get_sqe") }
    return sqe
  }

  /// Submits what is queued and waits up to `timeoutNs` (nil: forever, 0: not at all) for
  /// a completion; then `body` sees up to `batch` of those there, by user data and result.
  package func submitAndWait(
    timeoutNs: UInt64?, _ body: (_ userData: UInt64, _ result: Int32, _ flags: UInt32) -> Void
  ) throws(SystemError) {
    var r: Int32
    var cqe: UnsafeMutablePointer<io_uring_cqe>?
    switch timeoutNs {
    case 0: r = io_uring_submit_and_get_events(ring)
    case nil: r = io_uring_submit_and_wait(ring, 1)
    case let ns?:
      var ts = __kernel_timespec(tv_sec: Int64(ns / 1_000_000_000), tv_nsec: Int64(ns % 1_000_000_000))
      r = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, nil)
    }
    if r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY {
      throw SystemError(Errno(rawValue: -r), call: "io_uring_enter")
    }
    // One batch a wait: what is left is there at once for the next.
    let n = Int(io_uring_peek_batch_cqe(ring, completions, UInt32(batch)))
    for i in 0..<n {
      let c = completions[i]!.pointee
      body(c.user_data, c.res, c.flags)
    }
    io_uring_cq_advance(ring, UInt32(n))
  }

  /// Why this kernel cannot run searchd's io_uring backend, or nil if it can: io_uring
  /// refused (the io_uring_disabled sysctl, a seccomp filter), or an operation it needs
  /// missing.
  package static func unavailability(needing opcodes: [(UInt8, String)], features: [(UInt32, String)]) -> String? {
    let probeRing = UnsafeMutablePointer<io_uring>.allocate(capacity: 1)
    defer { probeRing.deallocate() }
    probeRing.initialize(to: io_uring())
    var params = io_uring_params()
    let r = io_uring_queue_init_params(8, probeRing, &params)
    if r < 0 {
      let e = Errno(rawValue: -r)
      switch -r {
      case EPERM:
        return "io_uring_setup is not permitted (\(e); the kernel.io_uring_disabled sysctl or a seccomp filter)"
      case ENOSYS: return "io_uring_setup is not available (\(e); a kernel without io_uring or a seccomp filter)"
      default: return "io_uring_setup failed: \(e)"
      }
    }
    defer { io_uring_queue_exit(probeRing) }
    for (bit, name) in features where params.features & bit == 0 {
      return "the kernel lacks io_uring's \(name) (Linux 6.0 or later has it)"
    }
    guard let probe = io_uring_get_probe_ring(probeRing) else {
      return "the kernel cannot list its io_uring operations"
    }
    defer { io_uring_free_probe(probe) }
    for (op, name) in opcodes where io_uring_opcode_supported(probe, Int32(op)) == 0 {
      return "the kernel lacks the io_uring operation \(name) (Linux 6.0 or later has it)"
    }
    return nil
  }
}
