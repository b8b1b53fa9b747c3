/// A message's JSON header as a client sees it (`FrameReader` reads and checks it).
public struct Header: Equatable, Sendable {
  /// The header's keys, spelled once.
  public enum Key {
    public static let byteorder: StaticString = "byteorder"
    public static let contentType: StaticString = "content-type"
    public static let contentEncoding: StaticString = "content-encoding"
    public static let contentLength: StaticString = "content-length"
  }

  /// In the order a missing one is reported, which `FrameReader.field` numbers them by.
  public static var required: (StaticString, StaticString, StaticString, StaticString) {
    (Key.byteorder, Key.contentType, Key.contentEncoding, Key.contentLength)
  }
  public static var requiredKeys: [String] { [required.0, required.1, required.2, required.3].map { "\($0)" } }

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
}
