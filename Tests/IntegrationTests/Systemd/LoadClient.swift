import Foundation
import SearchdWire

@testable import IntegrationSupport

/// Keep-alive clients hammering one search on loopback:65432 while a test restarts
/// or reloads the daemon. Each reply is checked; a connection closed before any byte
/// of its reply is retried once on a new connection, as searchctl does.
final class LoadClient: @unchecked Sendable {
  private let lock = NSLock()
  private var stopFlag = false
  private var _ok = 0
  private var _failures: [String] = []
  private var threadsDone = 0
  private let threads: Int
  /// Replies that count as correct (before and after a reload, say).
  private let accepted: Set<[UInt8]>

  init(query: String, accepted: [String], connections: Int = 4, port: UInt16 = 65432) {
    self.threads = connections
    self.accepted = Set(accepted.map { Reply.result($0) })
    let request = Request.encodeSearch(query)
    for _ in 0..<connections {
      Thread { [self] in
        self.run(request: request, port: port)
        self.lock.withLock { self.threadsDone += 1 }
      }.start()
    }
  }

  private func run(request: [UInt8], port: UInt16) {
    var client: TestClient?
    while !lock.withLock({ stopFlag }) {
      var answered = false
      for attempt in 0..<2 where !answered {
        do {
          if client == nil { client = try TestClient(port: port) }
          try client!.send(request)
          if let reply = try client!.readMessage(timeout: 10) {
            answered = true
            if accepted.contains(reply) {
              lock.withLock { _ok += 1 }
            } else {
              record("unexpected reply \(String(decoding: reply, as: UTF8.self))")
            }
          } else {
            client = nil
            if attempt == 1 { record("closed before replying, twice") }
          }
        } catch {
          client = nil
          record("\(error)")
          answered = true
        }
      }
    }
  }

  private func record(_ failure: String) {
    lock.withLock { _failures.append(failure) }
  }

  var ok: Int { lock.withLock { _ok } }

  /// Stops every client and returns the failures seen.
  func stop() -> [String] {
    lock.withLock { stopFlag = true }
    for _ in 0..<200 where lock.withLock({ threadsDone < threads }) { usleep(50_000) }
    return lock.withLock { _failures }
  }
}
