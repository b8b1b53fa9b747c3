import Dispatch
import Foundation
import Glibc
import Testing

@testable import SearchdClient

/// The Swift client's threads for blocking calls: a call never waits for another's thread,
/// and a finished thread takes the next call instead of a new one starting. Synchronous
/// tests: an async one's resumption can wait seconds for Swift's cooperative threads.
@Suite(.daemonSuite) struct BlockingThreadsTests {
  @Test func aFinishedThreadTakesTheNextCall() {
    let threads = BlockingThreads(idleSeconds: 120)
    let ids = IDs()
    let done = DispatchSemaphore(value: 0)
    threads.run {
      ids.add(UInt(pthread_self()))
      done.signal()
    }
    done.wait()
    for _ in 0..<500 where threads.idleCount == 0 { usleep(10_000) }
    #expect(threads.idleCount == 1)
    threads.run {
      ids.add(UInt(pthread_self()))
      done.signal()
    }
    done.wait()
    let seen = ids.all
    #expect(seen.count == 2 && seen[0] == seen[1], "the idle thread took it: \(seen)")
  }

  @Test func callsThatBlockRunAtOnce() {
    let threads = BlockingThreads()
    // Eight calls that each wait for all eight to have started: they all see eight only if
    // none waits for another's thread.
    let started = IDs()
    let sawAll = IDs()
    let done = DispatchSemaphore(value: 0)
    for i in 0..<8 {
      threads.run {
        started.add(UInt(i))
        for _ in 0..<1000 where started.all.count < 8 { usleep(5_000) }
        if started.all.count == 8 { sawAll.add(UInt(i)) }
        done.signal()
      }
    }
    for _ in 0..<8 { done.wait() }
    #expect(sawAll.all.count == 8)
  }

  final class IDs: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [UInt] = []
    var all: [UInt] { lock.withLock { list } }
    func add(_ id: UInt) { lock.withLock { list.append(id) } }
  }
}
