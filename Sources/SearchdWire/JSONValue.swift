/// A parsed JSON value. Objects keep their members in order, duplicates included,
/// so each caller decides what a duplicate key means (the header rejects them).
public indirect enum JSONValue: Equatable, Sendable {
  case object([JSONMember])
  case array([JSONValue])
  case string(String)
  case number(JSONNumber)
  case bool(Bool)
  case null

  /// The last member named `key`, as Python's `json.loads` keeps it.
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.last { $0.key == key }?.value
  }

  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }
}

public struct JSONMember: Equatable, Sendable {
  public let key: String
  public let value: JSONValue
  public init(key: String, value: JSONValue) {
    self.key = key
    self.value = value
  }
}

/// A number as written, so integer-only fields can refuse `1e3` and `10.0`
/// (which Foundation's parsers turn into integers).
public struct JSONNumber: Equatable, Sendable {
  public let literal: String
  public let isIntegerLiteral: Bool

  /// The value if the literal is a plain integer that fits in an `Int`.
  public var integer: Int? { isIntegerLiteral ? Int(literal) : nil }
  public var double: Double? { Double(literal) }
}
