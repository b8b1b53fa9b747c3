import SearchdLoop
import SearchdSystem

/// Pings systemd's watchdog while every loop is turning. Each loop turns at least
/// four times a second (its sweep timer), so a loop that stopped counting is stuck,
/// and then the pings stop and systemd restarts the daemon.
final class Watchdog {
  private let loops: [EventLoop]
  private var lastTurns: [UInt64]

  init(loops: [EventLoop]) {
    self.loops = loops
    lastTurns = Array(repeating: .max, count: loops.count)
  }

  func start(on loop: EventLoop) {
    guard let usec = Systemd.watchdogMicroseconds() else { return }
    loop.scheduleRepeating(everyNanoseconds: usec * 1000 / 2) { [self] in self.check() }
  }

  private func check() {
    let turns = loops.map { $0.turns.load(ordering: .relaxed) }
    let allMoved = zip(turns, lastTurns).allSatisfy { $0 != $1 }
    lastTurns = turns
    if allMoved { Systemd.notify("WATCHDOG=1") }
  }
}
