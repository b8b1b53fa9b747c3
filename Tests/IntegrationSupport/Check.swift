/// A helper's failed check, thrown so the calling test records it with its words; the
/// helpers are a plain target (release builds compile it), so they cannot use `#expect`.
struct CheckFailed: Error, CustomStringConvertible {
  let description: String
}

/// `value`, or CheckFailed saying `what` was missing.
func required<T>(_ value: T?, _ what: @autoclosure () -> String) throws -> T {
  guard let value else { throw CheckFailed(description: "missing: \(what())") }
  return value
}

/// Throws CheckFailed with `what` unless `condition` holds.
func check(_ condition: Bool, _ what: @autoclosure () -> String) throws {
  if !condition { throw CheckFailed(description: what()) }
}
