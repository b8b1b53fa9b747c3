/// Requests as a tutorial client frames them (searchctl, the tests, the benchmarks).
public enum Request {
  public static func encodeSearch(_ query: String, action: String = "search") -> [UInt8] {
    var content: [UInt8] = []
    JSONWriter.appendObject(["action": .string(action), "value": .string(query)], to: &content)
    return Message.encode(contentType: Message.jsonType, contentEncoding: "utf-8", content: content)
  }

  public static func encodeBinary(_ content: [UInt8], contentType: String = "binary/custom-client-binary-type")
    -> [UInt8]
  {
    Message.encode(contentType: contentType, contentEncoding: "binary", content: content)
  }
}
