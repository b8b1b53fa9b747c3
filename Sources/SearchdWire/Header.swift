/// A message's JSON header, checked against the protocol's rules.
public struct Header: Equatable, Sendable {
  public static let requiredKeys = ["byteorder", "content-type", "content-encoding", "content-length"]

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

  public var isJSON: Bool { contentType == "text/json" }

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
    guard case .number(let n) = value["content-length"]!, let length = n.integer, length >= 0 else {
      throw .framing(.badContentLength, "content-length must be a non-negative integer")
    }
    guard length <= limits.maxContentLength else {
      throw .framing(
        .contentTooLarge, "content-length \(length) is over the limit of \(limits.maxContentLength) bytes")
    }
    return Header(
      contentLength: length,
      byteorder: value["byteorder"]!.stringValue,
      contentType: value["content-type"]!.stringValue,
      contentEncoding: value["content-encoding"]!.stringValue)
  }
}
