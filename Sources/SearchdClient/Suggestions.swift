/// One key a suggest found: its value, and how many typos away from the text it is.
public struct Suggestion: Sendable, Equatable {
  public var key: String
  public var value: String
  public var typos: Int

  public init(key: String, value: String, typos: Int) {
    self.key = key
    self.value = value
    self.typos = typos
  }
}

/// A suggest's answer, best first. `complete` is false when the server stopped at its
/// visit limit (`suggest-max-visits`): these are the best it found before it.
public struct Suggestions: Sendable, Equatable {
  public var items: [Suggestion]
  public var complete: Bool

  public init(items: [Suggestion], complete: Bool) {
    self.items = items
    self.complete = complete
  }
}
