import Foundation
import Glibc
import Testing

@testable import SearchdClient

/// The Swift client's threads for blocking calls: a call never waits for another's thread,
/// and a finished thread takes the next call instead of a new one starting.
@Suite(.timeLimit(.minutes(1))) struct BlockingThreadsTests {
  @Test func aFinishedThreadTakesTheNextCall() async throws {
    let threads = BlockingThreads()
    let first = await withCheckedContinuation { c in threads.run { c.resume(returning: UInt(pthread_self())) } }
    var waited = 0
    while threads.idleCount == 0 && waited < 500 {
      usleep(10_000)
      waited += 1
    }
    #expect(threads.idleCount == 1)
    let second = await withCheckedContinuation { c in threads.run { c.resume(returning: UInt(pthread_self())) } }
    #expect(second == first, "the idle thread took it")
  }

  @Test func callsThatBlockRunAtOnce() async throws {
    let threads = BlockingThreads()
    // Eight calls that each wait for all eight to have started: they finish only if none
    // waits for another's thread.
    let started = Counter()
    let finished = await withTaskGroup(of: Bool.self) { group in
      for _ in 0..<8 {
        group.addTask {
          await withCheckedContinuation { c in
            threads.run {
              started.add()
              var waited = 0
              while started.value < 8 && waited < 1000 {
                usleep(5_000)
                waited += 1
              }
              c.resume(returning: started.value == 8)
            }
          }
        }
      }
      return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
    }
    #expect(finished == 8)
  }

  final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add() { lock.withLock { count += 1 } }
  }
}
