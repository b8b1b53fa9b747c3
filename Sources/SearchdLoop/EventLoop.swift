import SearchdSystem
import Synchronization

/// A reactor for one thread, on epoll or io_uring (`IOBackend`). Register fds with a
/// handler and an interest set; `run()` dispatches ready events until `stop()`. Everything but `stop()`
/// and `execute(_:)` must be called on the loop's own thread.
public final class EventLoop: @unchecked Sendable {
  // @unchecked: the mutable state below is touched only by the loop's thread;
  // the cross-thread entry points go through `pending` (a lock) and the eventfd.

  private struct Registration {
    let handler: EventHandler
    var interest: Interest
    let exclusive: Bool
    let generation: UInt32
  }

  public let backend: IOBackend
  private let poller: any Poller
  private let ready: ReadyList
  private let wakeup: EventFD
  private let wakeupHandler: ClosureHandler
  /// Indexed by fd: the fastest lookup, and fds are small dense integers.
  private var registrations: [Registration?] = []
  private var generation: UInt32 = 0
  private var timers = Timers()
  private let pending = Locked<(tasks: [@Sendable () -> Void], stopRequested: Bool)>(([], false))

  /// Monotonic time of the current loop turn, in nanoseconds.
  public private(set) var now: UInt64 = MonotonicClock.nanoseconds()
  /// Loop turns completed: a stuck loop stops counting, which the watchdog can see.
  public let turns = Atomic<UInt64>(0)

  /// `maxEvents`: the largest batch of events taken per wait.
  public init(backend: IOBackend = .epoll, maxEvents: Int = 256) throws(SystemError) {
    self.backend = backend
    switch backend {
    case .epoll: poller = try EpollPoller(maxEvents: maxEvents)
    case .ioUring: poller = try URingPoller(maxEvents: maxEvents)
    }
    ready = ReadyList(capacity: maxEvents)
    wakeup = try EventFD()
    let w = wakeup
    wakeupHandler = ClosureHandler { _ in w.drain() }
    try register(wakeup.descriptor, interest: .readable, handler: wakeupHandler)
  }

  // MARK: registration (loop thread)

  /// `exclusive`: of the loops watching one listener, the kernel wakes one per event
  /// (EPOLLEXCLUSIVE; no thundering herd). Such a registration cannot be modified.
  public func register(_ fd: Int32, interest: Interest, exclusive: Bool = false, handler: EventHandler)
    throws(SystemError)
  {
    precondition(fd >= 0)
    if Int(fd) >= registrations.count {
      registrations.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - registrations.count + 64))
    }
    precondition(registrations[Int(fd)] == nil, "fd \(fd) registered twice")
    generation &+= 1
    try poller.add(fd, interest: interest, exclusive: exclusive, token: token(fd, generation))
    registrations[Int(fd)] = Registration(
      handler: handler, interest: interest, exclusive: exclusive, generation: generation)
  }

  /// Changes the interest set; a no-op when it is unchanged (no system call).
  public func modify(_ fd: Int32, interest: Interest) throws(SystemError) {
    guard var r = registrations[Int(fd)] else { preconditionFailure("modify of unregistered fd \(fd)") }
    if r.interest == interest { return }
    precondition(!r.exclusive, "an exclusive registration cannot be modified (epoll_ctl says EINVAL)")
    try poller.modify(fd, interest: interest, token: token(fd, r.generation))
    r.interest = interest
    registrations[Int(fd)] = r
  }

  /// Stops watching `fd`; call before closing it. `closing`: its owner closes it next and holds its only
  /// reference (never duplicated, never inherited), so close(2) takes it out of an epoll
  /// set without a call; events already fetched for it are dropped by the generation
  /// check all the same.
  public func deregister(_ fd: Int32, closing: Bool = false) {
    guard Int(fd) < registrations.count, let r = registrations[Int(fd)] else { return }
    registrations[Int(fd)] = nil
    poller.remove(fd, token: token(fd, r.generation), closing: closing)
  }

  private func token(_ fd: Int32, _ gen: UInt32) -> UInt64 { UInt64(gen) << 32 | UInt64(UInt32(fd)) }

  // MARK: timers (loop thread)

  @discardableResult
  public func scheduleRepeating(everyNanoseconds interval: UInt64, _ body: @escaping () -> Void) -> Int {
    timers.add(deadline: now + interval, interval: interval, body: body)
  }

  @discardableResult
  public func schedule(afterNanoseconds delay: UInt64, _ body: @escaping () -> Void) -> Int {
    timers.add(deadline: MonotonicClock.nanoseconds() + delay, interval: nil, body: body)
  }

  // MARK: any thread

  /// Runs `task` on the loop's thread at its next turn.
  public func execute(_ task: @escaping @Sendable () -> Void) {
    pending.withLock { $0.tasks.append(task) }
    wakeup.signal()
  }

  /// Makes `run()` return after the current turn.
  public func stop() {
    pending.withLock { $0.stopRequested = true }
    wakeup.signal()
  }

  // MARK: running

  public func run() throws(SystemError) {
    try poller.start()
    while true {
      let (tasks, stopRequested) = pending.withLock { state in
        let taken = state
        state.tasks = []
        return (taken.tasks, taken.stopRequested)
      }
      for task in tasks { task() }
      if stopRequested { return }

      now = MonotonicClock.nanoseconds()
      try poller.wait(timeoutMs: tasks.isEmpty ? timers.timeoutMs(now: now) : 0, into: ready)
      now = MonotonicClock.nanoseconds()
      for i in 0..<ready.count {
        let token = ready.tokens[i]
        let fd = Int(Int32(bitPattern: UInt32(truncatingIfNeeded: token)))
        let gen = UInt32(truncatingIfNeeded: token >> 32)
        // A handler earlier in this batch may have closed this fd and another taken its number.
        guard fd < registrations.count, let r = registrations[fd], r.generation == gen else { continue }
        r.handler.handleEvents(ready.interests[i])
      }
      for body in timers.takeDue(now: now) { body() }
      turns.add(1, ordering: .relaxed)
    }
  }
}
