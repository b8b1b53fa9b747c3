import Atomics

/// A process-wide sequence (connection ids), shared by every loop.
final class ManagedAtomicCounter: Sendable {
  private let value = ManagedAtomic<UInt64>(0)
  func next() -> UInt64 { value.wrappingIncrementThenLoad(ordering: .relaxed) }
}
