/// Encodes whole messages: 2-byte big-endian header length, JSON header, content.
public enum Message {
  /// This host's byte order, as the reference reports `sys.byteorder`.
  public static let hostByteOrder: String = 1.littleEndian == 1 ? "little" : "big"

  /// The content type of JSON content, spelled once (the reader compares its bytes).
  public static let jsonTypeLiteral: StaticString = "text/json"
  public static let jsonType = "\(jsonTypeLiteral)"
  public static let binaryReplyType = "binary/custom-server-binary-type"

  /// The header bytes, keys in the reference's order, with Python's separators.
  public static func header(
    contentType: String, contentEncoding: String, contentLength: Int, byteorder: String = hostByteOrder
  ) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(128)
    JSONWriter.appendObject(
      [
        "byteorder": .string(byteorder),
        "content-type": .string(contentType),
        "content-encoding": .string(contentEncoding),
        "content-length": .integer(contentLength),
      ], to: &out)
    return out
  }

  /// A complete message. Fails only if the header would not fit the 2-byte length.
  public static func encode(
    contentType: String, contentEncoding: String, content: some Collection<UInt8>,
    byteorder: String = hostByteOrder
  ) -> [UInt8] {
    let h = header(
      contentType: contentType, contentEncoding: contentEncoding, contentLength: content.count, byteorder: byteorder)
    precondition(h.count <= Int(UInt16.max), "a header over 65535 bytes cannot be framed")
    var out: [UInt8] = [UInt8(h.count >> 8), UInt8(h.count & 0xFF)]
    out.reserveCapacity(2 + h.count + content.count)
    out.append(contentsOf: h)
    out.append(contentsOf: content)
    return out
  }
}
