/// What was wrong with a message, as the peer is told: a stable code for
/// scripts, a sentence for people, and whether the framing survived it.
public struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
  public enum Code: String, Sendable, CaseIterable {
    case badHeaderLength = "bad-header-length"
    case headerTooLarge = "header-too-large"
    case badHeader = "bad-header"
    case missingHeader = "missing-header"
    case badContentLength = "bad-content-length"
    case contentTooLarge = "content-too-large"
    case badJSON = "bad-json"
    case badRequest = "bad-request"
    case unsupportedEncoding = "unsupported-encoding"
    case timeout = "timeout"
    case tooManyConnections = "too-many-connections"
    case notPermitted = "not-permitted"
    case replyTooLarge = "reply-too-large"
    case badLimit = "bad-limit"
    case badTypos = "bad-typos"
    case noSuggestions = "no-suggestions"
  }

  public let code: Code
  /// Without the `Error: ` prefix and the final full stop, which the reply adds.
  public let detail: String
  /// True when the message boundaries can no longer be trusted, so the connection must close.
  public let closesConnection: Bool

  public init(_ code: Code, _ detail: String, closesConnection: Bool) {
    self.code = code
    self.detail = detail
    self.closesConnection = closesConnection
  }

  public var description: String { "\(code.rawValue): \(detail)" }

  static func framing(_ code: Code, _ detail: String) -> WireError {
    WireError(code, detail, closesConnection: true)
  }

  static func request(_ code: Code, _ detail: String) -> WireError {
    WireError(code, detail, closesConnection: false)
  }
}
