import Foundation

/// Threads for the client's blocking calls. An idle thread takes the next call; with none
/// idle a new one starts, so no call waits for another's (a call to a silent server holds
/// its thread for its whole timeout). A thread idle for `idleSeconds` ends. Dispatch's
/// queues are as wide as the cores here: on 2 cores a third call waited for a first one's
/// timeout.
final class BlockingThreads: @unchecked Sendable {
  static let shared = BlockingThreads()

  private let idleSeconds: Double

  init(idleSeconds: Double = 10) { self.idleSeconds = idleSeconds }

  /// Guards `calls` and `idle`.
  private let condition = NSCondition()
  private var calls: [@Sendable () -> Void] = []
  /// Threads waiting for a call that no call queued since has been promised to.
  private var idle = 0

  func run(_ call: @escaping @Sendable () -> Void) {
    condition.lock()
    if idle > 0 {
      idle -= 1
      calls.append(call)
      condition.signal()
      condition.unlock()
      return
    }
    condition.unlock()
    let thread = Thread { [self] in
      call()
      serve()
    }
    thread.stackSize = 256 << 10
    thread.start()
  }

  /// A thread's life after its first call: the queued calls, until it has been idle too long.
  private func serve() {
    condition.lock()
    while true {
      idle += 1
      while calls.isEmpty {
        if !condition.wait(until: Date(timeIntervalSinceNow: idleSeconds)) && calls.isEmpty {
          idle -= 1
          condition.unlock()
          return
        }
      }
      // The call's promise was this thread's idle slot, or another's still waiting.
      let call = calls.removeFirst()
      condition.unlock()
      call()
      condition.lock()
    }
  }
}

extension BlockingThreads {
  /// Threads waiting for a call (for tests).
  var idleCount: Int {
    condition.lock()
    defer { condition.unlock() }
    return idle
  }
}
