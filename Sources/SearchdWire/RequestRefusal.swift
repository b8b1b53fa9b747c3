/// A well-framed JSON request's errors whose reply depends on nothing else: replies made once.
public enum RequestRefusal: Int, CaseIterable, Sendable {
  /// Declared `utf-8` (as the tutorial's client writes it) and not: the commonest encoding refusal.
  case notUTF8
  case notJSON, notAnObject, noAction, actionNotAString, searchWithoutValue, fieldsNotStrings
  case suggestWithoutValue, badLimit, badTypos, suggestTextTooLong

  public static let utf8Name: StaticString = "utf-8"

  public var error: WireError { Self.errors[rawValue] }
  public var reply: [UInt8] { Self.replies[rawValue] }

  // Made once: words with the rules' numbers in them would be made on every refusal.
  private static let errors = allCases.map(\.words)
  private static let replies = errors.map(Reply.error)

  private var words: WireError {
    let (limits, typos) = (SuggestRequest.limits, SuggestRequest.typoRange)
    switch self {
    case .notUTF8: return EncodingRefusal.notValid("\(Self.utf8Name)")
    case .notJSON: return .request(.badJSON, "the content is not valid JSON")
    case .notAnObject: return .request(.badRequest, "the request is not a JSON object")
    case .noAction: return .request(.badRequest, "the request has no \"action\"")
    case .actionNotAString: return .request(.badRequest, "\"action\" must be a string")
    case .searchWithoutValue: return .request(.badRequest, "a search needs a string \"value\"")
    case .fieldsNotStrings: return .request(.badHeader, "byteorder, content-type and content-encoding must be strings")
    case .suggestWithoutValue: return .request(.badRequest, "a suggest needs a string \"value\"")
    case .badLimit:
      return .request(.badLimit, "\"limit\" must be an integer from \(limits.lowerBound) to \(limits.upperBound)")
    case .badTypos:
      return .request(.badTypos, "\"typos\" must be an integer from \(typos.lowerBound) to \(typos.upperBound)")
    case .suggestTextTooLong:
      return .request(.badRequest, "a suggest's \"value\" is at most \(SuggestRequest.maxTextScalars) characters")
    }
  }
}

/// A refusal naming the content-encoding declared: rare, so its reply is made when answered.
public struct EncodingRefusal {
  /// The encoding is not one searchd reads, or the content is not valid in it.
  public var unsupported: Bool
  /// The content-encoding as sent, valid until the reader reads again.
  public var name: UnsafeRawBufferPointer

  public var error: WireError {
    let name = String(decoding: name, as: UTF8.self)
    return unsupported
      ? .request(.unsupportedEncoding, "unsupported content-encoding \"\(name)\"") : Self.notValid(name)
  }

  /// Content not valid in the encoding it declares.
  static func notValid(_ name: String) -> WireError { .request(.badJSON, "the content is not valid \(name)") }
}
