/// The loop's timers: a handful per loop (sweeps, status), so a sorted scan
/// is simpler than a heap and no slower. Per-connection deadlines are checked
/// by the server's sweep timer, not one timer each.
struct Timers {
  struct Entry {
    let id: Int
    var deadline: UInt64
    let interval: UInt64?
    let body: () -> Void
  }

  private var entries: [Entry] = []
  private var nextID = 0

  mutating func add(deadline: UInt64, interval: UInt64?, body: @escaping () -> Void) -> Int {
    nextID += 1
    entries.append(Entry(id: nextID, deadline: deadline, interval: interval, body: body))
    return nextID
  }

  /// Milliseconds until the next timer, for epoll_wait; -1 when there is none.
  func timeoutMs(now: UInt64) -> Int32 {
    // A plain scan: this runs every loop turn, and `map` would allocate each time.
    var earliest: UInt64?
    for e in entries where e.deadline < earliest ?? .max { earliest = e.deadline }
    guard let next = earliest else { return -1 }
    if next <= now { return 0 }
    return Int32(min((next - now + 999_999) / 1_000_000, UInt64(Int32.max)))
  }

  /// The bodies of every timer due by `now`; repeating ones are re-armed.
  mutating func takeDue(now: UInt64) -> [() -> Void] {
    var due: [() -> Void] = []
    // Most turns have nothing due: answer those without allocating.
    guard entries.contains(where: { $0.deadline <= now }) else { return due }
    var i = 0
    while i < entries.count {
      if entries[i].deadline <= now {
        due.append(entries[i].body)
        if let interval = entries[i].interval {
          entries[i].deadline = now + interval
          i += 1
        } else {
          entries.remove(at: i)
        }
      } else {
        i += 1
      }
    }
    return due
  }
}
