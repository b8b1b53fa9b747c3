/// A message's JSON header, checked against the protocol's rules.
public struct Header: Equatable, Sendable {
  /// The header's keys, spelled once for the parser and the plain-search accelerator.
  public enum Key {
    public static let byteorder: StaticString = "byteorder"
    public static let contentType: StaticString = "content-type"
    public static let contentEncoding: StaticString = "content-encoding"
    public static let contentLength: StaticString = "content-length"
  }

  public static let requiredKeys = [Key.byteorder, Key.contentType, Key.contentEncoding, Key.contentLength].map {
    "\($0)"
  }

  public var contentLength: Int
  /// Nil when the key held something other than a string: the framing still holds,
  /// so that is answered with an error reply and the connection goes on.
  public var byteorder: String?
  public var contentType: String?
  public var contentEncoding: String?

  public init(contentLength: Int, byteorder: String?, contentType: String?, contentEncoding: String?) {
    self.contentLength = contentLength
    self.byteorder = byteorder
    self.contentType = contentType
    self.contentEncoding = contentEncoding
  }

  public var isJSON: Bool { contentType == Message.jsonType }

  /// Parses and checks header bytes. Every failure here loses the framing, so all are fatal.
  public static func parse(_ bytes: some Collection<UInt8>, limits: WireLimits) throws(WireError) -> Header {
    let value: JSONValue
    do {
      value = try JSONParser.parse(bytes, maxDepth: limits.maxJSONDepth)
    } catch .invalidUTF8 {
      throw .framing(.badHeader, "the JSON header is not valid UTF-8")
    } catch .tooDeep {
      throw .framing(.badHeader, "the JSON header nests too deep")
    } catch {
      throw .framing(.badHeader, "the JSON header is not valid JSON")
    }
    guard case .object(let members) = value else {
      throw .framing(.badHeader, "the JSON header is not an object")
    }
    var seen = Set<String>()
    for m in members where !seen.insert(m.key).inserted {
      // Two parsers may pick different duplicates: a request-smuggling hazard, so refuse.
      throw .framing(.badHeader, "duplicate header \"\(m.key)\"")
    }
    for key in requiredKeys where value[key] == nil {
      throw .framing(.missingHeader, "missing required header \"\(key)\"")
    }
    guard case .number(let n) = value["\(Key.contentLength)"]!, let length = n.integer, length >= 0 else {
      throw .framing(.badContentLength, "content-length must be a non-negative integer")
    }
    if let refusal = limits.refusal(contentLength: length) { throw refusal }
    return Header(
      contentLength: length,
      byteorder: value["\(Key.byteorder)"]!.stringValue,
      contentType: value["\(Key.contentType)"]!.stringValue,
      contentEncoding: value["\(Key.contentEncoding)"]!.stringValue)
  }
}
