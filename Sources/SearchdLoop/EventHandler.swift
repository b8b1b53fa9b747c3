import SearchdSystem

/// Whatever owns a registered fd. The loop hands it the ready events and never
/// learns what it is (a listener, a client, a signal source).
public protocol EventHandler: AnyObject {
  func handleEvents(_ ready: Interest)
}

/// A closure as a handler, for small sources (eventfd, signalfd).
public final class ClosureHandler: EventHandler {
  private let body: (Interest) -> Void
  public init(_ body: @escaping (Interest) -> Void) { self.body = body }
  public func handleEvents(_ ready: Interest) { body(ready) }
}
