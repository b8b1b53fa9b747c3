import Foundation
import SearchdLoop
import SearchdSystem
import Testing

@Suite(.timeLimit(.minutes(10))) struct EventLoopTests {
  @Test func executeFromAnotherThreadThenStop() throws {
    let loop = try EventLoop()
    let ran = Counter()
    let t = Thread {
      for _ in 0..<10 { loop.execute { ran.bump() } }
      loop.stop()
    }
    t.start()
    try loop.run()
    // stop() may be seen before the last execute() tasks only if they were queued after it: they were not.
    #expect(ran.value == 10)
  }

  @Test func timersFireAndRepeat() throws {
    let loop = try EventLoop()
    let once = Counter()
    let repeats = Counter()
    loop.schedule(afterNanoseconds: 10_000_000) { once.bump() }
    loop.scheduleRepeating(everyNanoseconds: 5_000_000) {
      repeats.bump()
      if repeats.value == 5 { loop.stop() }
    }
    try loop.run()
    #expect(once.value == 1)
    #expect(repeats.value == 5)
  }

  @Test func readableEventsReachTheHandlerUntilDeregistered() throws {
    let loop = try EventLoop()
    let fd = try EventFD()
    let seen = Counter()
    let handler = ClosureHandler { events in
      #expect(events.contains(.readable))
      seen.bump()
      fd.drain()
      loop.deregister(fd.descriptor)
      fd.signal()  // no longer watched: must not be delivered
      loop.schedule(afterNanoseconds: 20_000_000) { loop.stop() }
    }
    try loop.register(fd.descriptor, interest: .readable, handler: handler)
    fd.signal()
    try loop.run()
    #expect(seen.value == 1)
  }
}

final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var n = 0
  func bump() { lock.withLock { n += 1 } }
  var value: Int { lock.withLock { n } }
}
