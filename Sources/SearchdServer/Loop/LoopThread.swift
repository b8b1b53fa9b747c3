import Foundation

/// A named thread running one event loop, which the server joins on shutdown.
final class LoopThread: Sendable {
  private let done = DispatchSemaphore(value: 0)

  init(name: String, _ body: @escaping @Sendable () -> Void) {
    let done = self.done
    let thread = Thread {
      body()
      done.signal()
    }
    thread.name = name
    thread.start()
  }

  func join() { done.wait() }
}
