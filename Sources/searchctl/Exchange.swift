import SearchdSystem
import SearchdWire

/// One request, one reply, with the client's error handling and retry rule.
enum Exchange {
  /// Sends `request` and returns the reply. A reply that never started (the server
  /// closed first, as a restarting daemon does) is retried once: searches are idempotent.
  static func requestReply(
    _ request: [UInt8], target: Target, timeout: Double, output: Output, retryIfUnanswered: Bool,
    source: SocketAddress? = nil
  ) -> Frame {
    var attemptsLeft = retryIfUnanswered ? 2 : 1
    while true {
      attemptsLeft -= 1
      do {
        let client = try Client.connect(to: target, timeout: timeout, source: source)
        defer { client.close() }
        output.sent(request, to: client.target)
        try client.send(request)
        let frame = try client.receiveFrame()
        output.received(frame, from: client.target)
        return frame
      } catch .closedBeforeReply(let target) where attemptsLeft > 0 {
        _ = target
        continue
      } catch {
        exitWith(.unavailable, error.description)
      }
    }
  }
}
