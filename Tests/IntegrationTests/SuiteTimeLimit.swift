import Testing

/// Every suite here starts daemons. Under a sanitizer on two cores a test can wait minutes for a
/// cooperative thread before its body runs, and a time limit counts that wait: the limit is
/// there to end a hang, not to time anything.
extension Trait where Self == TimeLimitTrait {
  static var daemonSuite: Self { .timeLimit(.minutes(10)) }
}
