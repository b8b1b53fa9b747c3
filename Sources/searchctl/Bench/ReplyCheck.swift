import Glibc
import SearchdWire

/// How the load generator checks replies without the full decoder, which made the client,
/// not the server, the bottleneck: against the expected bytes, or (any reply but an error,
/// `--kind keys`) framed by the length its header names.
enum ReplyCheck {
  static func equal(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
    a.withUnsafeBytes { x in
      b.withUnsafeBytes { y in
        x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
      }
    }
  }

  enum Unparsed {
    case reply(length: Int, isError: Bool)
    case incomplete
    /// Not framed as searchd frames its replies: for the decoder to judge.
    case other
  }

  private static let errorKey = Array(#""error""#.utf8)
  private static let contentLengthKey = Array(#""content-length": "#.utf8)
  private static let jsonType = Array(#""\#(Message.jsonType)""#.utf8)

  /// A reply's length read off its header (`"content-length": N`, as searchd writes it),
  /// and whether it is a JSON reply naming an error.
  static func unparsed(_ bytes: ArraySlice<UInt8>) -> Unparsed {
    guard bytes.count >= 2 else { return .incomplete }
    let start = bytes.startIndex
    let headerLength = Int(bytes[start]) << 8 | Int(bytes[start + 1])
    guard bytes.count >= 2 + headerLength else { return .incomplete }
    let header = bytes[(start + 2)..<(start + 2 + headerLength)]
    guard let at = firstIndex(of: contentLengthKey, in: header) else { return .other }
    var contentLength = 0
    var i = at + contentLengthKey.count
    while i < header.endIndex, header[i] >= UInt8(ascii: "0"), header[i] <= UInt8(ascii: "9"),
      contentLength < 1 << 30
    {
      contentLength = contentLength * 10 + Int(header[i] - UInt8(ascii: "0"))
      i += 1
    }
    guard i > at + contentLengthKey.count else { return .other }
    let total = 2 + headerLength + contentLength
    guard bytes.count >= total else { return .incomplete }
    let isJSON = firstIndex(of: jsonType, in: header) != nil
    return .reply(length: total, isError: isJSON && namesError(bytes[(start + 2 + headerLength)..<(start + total)]))
  }

  /// Whether a JSON reply's content names an error: an error reply names its code under
  /// "error", and no string can hold that quoted word unescaped, so the bytes tell
  /// without a parse.
  static func namesError(_ content: ArraySlice<UInt8>) -> Bool { firstIndex(of: errorKey, in: content) != nil }

  private static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    return haystack.withUnsafeBytes { h in
      needle.withUnsafeBytes { n in
        (0...(h.count - n.count)).first { at in
          h[at] == n[0] && memcmp(h.baseAddress! + at, n.baseAddress!, n.count) == 0
        }.map { haystack.startIndex + $0 }
      }
    }
  }

  /// A decoded reply: byte for byte the expected one, or (with none expected) no error.
  static func accepts(_ f: Frame, _ expected: [UInt8]?) -> Bool {
    if let expected {
      return Message.encode(
        contentType: f.header.contentType ?? "", contentEncoding: f.header.contentEncoding ?? "", content: f.content,
        byteorder: f.header.byteorder ?? "") == expected
    }
    return !(f.header.isJSON && namesError(f.content[...]))
  }
}
