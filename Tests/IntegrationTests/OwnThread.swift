import Foundation
import Testing

/// Runs a serialized suite's tests on a thread of its own instead of Swift's cooperative
/// threads, one per core: the systemd suite's tests spend minutes waiting on a sandboxed
/// systemd, and on two cores they waited for a cooperative thread until the other suites
/// were done (the plain run took the sum, 479 s, instead of the longer of the two).
struct OwnThread: SuiteTrait, TestTrait, TestScoping {
  let executor: ThreadExecutor
  var isRecursive: Bool { true }

  func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    guard testCase != nil else { return try await function() }
    try await withTaskExecutorPreference(executor) { try await function() }
  }
}

extension Trait where Self == OwnThread {
  /// A thread for the suite it is given to (evaluated once per suite).
  static func ownThread(_ name: String) -> Self { OwnThread(executor: ThreadExecutor(name: name)) }
}

/// One thread running the jobs given to it in order; it lives as long as the test run.
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
  // @unchecked: `jobs` is only touched under `condition`.
  private let condition = NSCondition()
  private var jobs: [UnownedJob] = []

  init(name: String) {
    let thread = Thread { [self] in self.run() }
    thread.name = name
    thread.start()
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    condition.lock()
    jobs.append(job)
    condition.signal()
    condition.unlock()
  }

  private func run() {
    while true {
      condition.lock()
      while jobs.isEmpty { condition.wait() }
      let job = jobs.removeFirst()
      condition.unlock()
      job.runSynchronously(on: asUnownedTaskExecutor())
    }
  }
}
