/// The request-level errors of a well-framed JSON request whose reply depends on nothing
/// but the error: `RequestReader` refuses with these, answered from replies made once
/// (nothing allocated per request).
public enum RequestRefusal: Int, CaseIterable, Sendable {
  /// Declared `utf-8` (`utf8Name`, as the tutorial's client writes it) and not: the
  /// commonest `EncodingRefusal`, with its reply made once.
  case notUTF8
  case notJSON
  case notAnObject
  case noAction
  case actionNotAString
  case searchWithoutValue
  case fieldsNotStrings
  case suggestWithoutValue
  case badLimit
  case badTypos
  case suggestTextTooLong

  public var error: WireError {
    switch self {
    case .notUTF8: return EncodingRefusal.notValid("\(Self.utf8Name)")
    case .notJSON: return .request(.badJSON, "the content is not valid JSON")
    case .notAnObject: return .request(.badRequest, "the request is not a JSON object")
    case .noAction: return .request(.badRequest, "the request has no \"action\"")
    case .actionNotAString: return .request(.badRequest, "\"action\" must be a string")
    case .searchWithoutValue: return .request(.badRequest, "a search needs a string \"value\"")
    case .fieldsNotStrings: return .request(.badHeader, "byteorder, content-type and content-encoding must be strings")
    case .suggestWithoutValue: return .request(.badRequest, "a suggest needs a string \"value\"")
    case .badLimit: return Self.badLimitError
    case .badTypos: return Self.badTyposError
    case .suggestTextTooLong: return Self.textTooLongError
    }
  }

  public static let utf8Name: StaticString = "utf-8"

  // Words made from the rules' numbers once: an error is made on every refusal it answers.
  private static let badLimitError = WireError.request(
    .badLimit,
    "\"limit\" must be an integer from \(SuggestRequest.limits.lowerBound) to \(SuggestRequest.limits.upperBound)")
  private static let badTyposError = WireError.request(
    .badTypos,
    "\"typos\" must be an integer from \(SuggestRequest.typoRange.lowerBound) to \(SuggestRequest.typoRange.upperBound)"
  )
  private static let textTooLongError = WireError.request(
    .badRequest, "a suggest's \"value\" is at most \(SuggestRequest.maxTextScalars) characters")

  /// `Reply.error(error)`, made once.
  public var reply: [UInt8] { Self.replies[rawValue] }

  private static let replies = allCases.map { Reply.error($0.error) }
}

/// A refusal whose words name the content-encoding the request declared: its reply is made
/// when it is answered (these are rare; the common refusals are `RequestRefusal`'s).
public struct EncodingRefusal {
  /// The encoding is not one searchd reads, or the content is not valid in it.
  public var unsupported: Bool
  /// The content-encoding as sent, valid until the reader reads again.
  public var name: UnsafeRawBufferPointer

  public var error: WireError {
    let name = String(decoding: name, as: UTF8.self)
    if unsupported { return .request(.unsupportedEncoding, "unsupported content-encoding \"\(name)\"") }
    return Self.notValid(name)
  }

  /// Content not valid in the encoding it declares.
  static func notValid(_ name: String) -> WireError { .request(.badJSON, "the content is not valid \(name)") }
}
