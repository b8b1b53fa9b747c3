import Foundation
import SearchdLoop
import SearchdSystem
import Testing

/// Every test runs on each backend: the loop's rules do not depend on what it waits with.
@Suite(.timeLimit(.minutes(10))) struct EventLoopTests {
  @Test(arguments: IOBackend.allCases) func executeFromAnotherThreadThenStop(_ backend: IOBackend) throws {
    let loop = try EventLoop(backend: backend)
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

  @Test(arguments: IOBackend.allCases) func timersFireAndRepeat(_ backend: IOBackend) throws {
    let loop = try EventLoop(backend: backend)
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

  @Test(arguments: IOBackend.allCases) func readableEventsReachTheHandlerUntilDeregistered(_ backend: IOBackend) throws
  {
    let loop = try EventLoop(backend: backend)
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

  /// Level-triggered on both: a handler that leaves the event pending is called again.
  @Test(arguments: IOBackend.allCases) func aPendingEventIsReportedAgainUntilHandled(_ backend: IOBackend) throws {
    let loop = try EventLoop(backend: backend)
    let fd = try EventFD()
    let seen = Counter()
    let handler = ClosureHandler { _ in
      seen.bump()
      guard seen.value == 4 else { return }
      fd.drain()
      loop.schedule(afterNanoseconds: 20_000_000) { loop.stop() }
    }
    try loop.register(fd.descriptor, interest: .readable, handler: handler)
    fd.signal()
    try loop.run()
    #expect(seen.value == 4)
  }

  /// A change of interest takes effect: a socket with nothing to read reports writable
  /// once asked for it, and stops once no longer asked.
  @Test(arguments: IOBackend.allCases) func interestChangesTakeEffect(_ backend: IOBackend) throws {
    let loop = try EventLoop(backend: backend)
    let (a, b) = try socketPair()
    defer {
      a.close()
      b.close()
    }
    let writable = Counter()
    let handler = ClosureHandler { events in
      guard events.contains(.writable) else { return }
      writable.bump()
      try? loop.modify(a.descriptor, interest: .readable)
    }
    try loop.register(a.descriptor, interest: .readable, handler: handler)
    loop.schedule(afterNanoseconds: 10_000_000) { try? loop.modify(a.descriptor, interest: [.readable, .writable]) }
    loop.schedule(afterNanoseconds: 60_000_000) { loop.stop() }
    try loop.run()
    #expect(writable.value == 1)
    loop.deregister(a.descriptor)
  }

  /// A socket deregistered and closed while watched is closed for its peer too (an
  /// io_uring poll holds the file until its removal is submitted, at the next wait).
  @Test(arguments: IOBackend.allCases) func aSocketClosedWhileWatchedReachesItsPeer(_ backend: IOBackend) throws {
    let loop = try EventLoop(backend: backend)
    let (a, b) = try socketPair()
    defer { b.close() }
    try loop.register(a.descriptor, interest: .readable, handler: ClosureHandler { _ in })
    loop.schedule(afterNanoseconds: 10_000_000) {
      loop.deregister(a.descriptor, closing: true)
      a.close()
    }
    loop.schedule(afterNanoseconds: 40_000_000) { loop.stop() }
    try loop.run()
    var byte: UInt8 = 0
    let n = withUnsafeMutableBytes(of: &byte) { try? b.read(into: $0) }
    #expect(n == .processed(0), "the peer reads the end of the stream")
  }
}

/// A connected pair of non-blocking unix stream sockets.
func socketPair() throws -> (Socket, Socket) {
  var fds: [Int32] = [0, 0]
  guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0 else {
    throw SystemError(Errno(rawValue: errno), call: "socketpair")
  }
  return (Socket(adopting: fds[0]), Socket(adopting: fds[1]))
}

final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var n = 0
  func bump() { lock.withLock { n += 1 } }
  var value: Int { lock.withLock { n } }
}
