import CShims
import SearchdSystem

/// The io_uring backend: each watched descriptor has one poll operation in flight, armed
/// again after it completes and its handler has run, so readiness is level-triggered as
/// with epoll (a poll checks readiness as it is armed; later it hears only of changes).
/// A wait submits every arm, change and removal of the turn in the one io_uring_enter
/// that waits.
final class URingPoller: Poller {
  private struct Watch {
    /// The loop's token, reported with its readiness.
    let token: UInt64
    var mask: UInt32
    /// The user data of its poll in flight, 0 when none is.
    var armed: UInt64
  }

  /// The user data of operations whose completions say nothing (removals).
  private static let control = UInt64.max
  /// Each poll's user data is its fd and an arming number, so a completion of a poll
  /// since removed or replaced is told from the one in flight.
  private var armings: UInt32 = 0
  private let ring: URing
  private let translation = Interest.Translation()
  /// Indexed by fd, as the loop's registrations.
  private var watches: [Watch?] = []
  /// Descriptors whose poll completed this turn: armed again at the next wait.
  private var rearm: [Int32] = []

  init(maxEvents: Int) throws(SystemError) {
    ring = try URing(batch: maxEvents)
  }

  func start() throws(SystemError) { try ring.enable() }

  func add(_ fd: Int32, interest: Interest, exclusive: Bool, token: UInt64) throws(SystemError) {
    if Int(fd) >= watches.count {
      watches.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - watches.count + 64))
    }
    watches[Int(fd)] = Watch(token: token, mask: interest.epollEvents(exclusive: exclusive).rawValue, armed: 0)
    try arm(fd)
  }

  func modify(_ fd: Int32, interest: Interest, token: UInt64) throws(SystemError) {
    guard var w = watches[Int(fd)], w.token == token else { return }
    w.mask = interest.epollEvents(exclusive: false).rawValue
    // Not armed: the next wait arms it with the new mask. Armed: replaced, not updated,
    // since an updated poll does not look at readiness already there (a socket writable
    // all along would never be reported).
    let inFlight = w.armed
    w.armed = 0
    watches[Int(fd)] = w
    guard inFlight != 0 else { return }
    try disarm(inFlight)
    try arm(fd)
  }

  func remove(_ fd: Int32, token: UInt64, closing: Bool) {
    guard Int(fd) < watches.count, let w = watches[Int(fd)], w.token == token else { return }
    watches[Int(fd)] = nil
    guard w.armed != 0 else { return }
    // The poll holds the file until its removal is submitted, with the next wait: a
    // closed socket's FIN waits for the end of the turn. A failure to queue the removal
    // leaves the poll to complete on its own, dropped as stale.
    try? disarm(w.armed)
  }

  private func disarm(_ userData: UInt64) throws(SystemError) {
    let sqe = try ring.entry()
    io_uring_prep_poll_remove(sqe, userData)
    io_uring_sqe_set_data64(sqe, Self.control)
  }

  /// poll(2)'s bits are epoll's, so the mask is the one epoll would be given.
  private func arm(_ fd: Int32) throws(SystemError) {
    guard var w = watches[Int(fd)], w.armed == 0 else { return }
    let sqe = try ring.entry()
    io_uring_prep_poll_add(sqe, fd, w.mask)
    armings = armings == UInt32.max - 1 ? 1 : armings + 1
    w.armed = UInt64(armings) << 32 | UInt64(UInt32(bitPattern: fd))
    io_uring_sqe_set_data64(sqe, w.armed)
    watches[Int(fd)] = w
  }

  func wait(timeoutMs: Int32, into ready: ReadyList) throws(SystemError) {
    for fd in rearm { try arm(fd) }
    rearm.removeAll(keepingCapacity: true)
    ready.clear()
    let timeout: UInt64? = timeoutMs < 0 ? nil : UInt64(timeoutMs) * 1_000_000
    try ring.submitAndWait(timeoutNs: timeout) { userData, result, _ in
      guard userData != Self.control else { return }
      let fd = Int(Int32(bitPattern: UInt32(truncatingIfNeeded: userData)))
      // A poll since removed or replaced.
      guard fd < watches.count, var w = watches[fd], w.armed == userData else { return }
      w.armed = 0
      watches[fd] = w
      rearm.append(Int32(fd))
      if result == -ECANCELED { return }
      // An error is both readable and writable, so the handler's next call reports it.
      let bits = result < 0 ? EpollEvents.error : EpollEvents(rawValue: UInt32(bitPattern: result))
      ready.append(w.token, translation.interest(bits))
    }
  }

  /// Why this backend cannot run here, or nil.
  static func unavailability() -> String? {
    URing.unavailability(
      needing: [
        (UInt8(IORING_OP_POLL_ADD.rawValue), "POLL_ADD"), (UInt8(IORING_OP_POLL_REMOVE.rawValue), "POLL_REMOVE"),
      ],
      features: [(UInt32(IORING_FEAT_NODROP), "NODROP"), (UInt32(IORING_FEAT_EXT_ARG), "EXT_ARG")])
  }
}
