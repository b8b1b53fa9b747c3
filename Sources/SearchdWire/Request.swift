/// Requests as a tutorial client frames them (searchctl, the tests, the benchmarks).
public enum Request {
  public static func encodeSearch(_ query: String, action: String = "search") -> [UInt8] {
    var content: [UInt8] = []
    JSONWriter.appendObject(["action": .string(action), "value": .string(query)], to: &content)
    return Message.encode(contentType: Message.jsonType, contentEncoding: "utf-8", content: content)
  }

  /// A suggest for `text`; `limit` and `typos` are left to the server's defaults when nil.
  public static func encodeSuggest(_ text: String, limit: Int? = nil, typos: Int? = nil) -> [UInt8] {
    var content: [UInt8] = []
    switch (limit, typos) {
    case (nil, nil): JSONWriter.appendObject(["action": .string("suggest"), "value": .string(text)], to: &content)
    case (let l?, nil):
      JSONWriter.appendObject(
        ["action": .string("suggest"), "value": .string(text), "limit": .integer(l)], to: &content)
    case (nil, let t?):
      JSONWriter.appendObject(
        ["action": .string("suggest"), "value": .string(text), "typos": .integer(t)], to: &content)
    case (let l?, let t?):
      JSONWriter.appendObject(
        ["action": .string("suggest"), "value": .string(text), "limit": .integer(l), "typos": .integer(t)], to: &content
      )
    }
    return Message.encode(contentType: Message.jsonType, contentEncoding: "utf-8", content: content)
  }

  public static func encodeBinary(_ content: [UInt8], contentType: String = "binary/custom-client-binary-type")
    -> [UInt8]
  {
    Message.encode(contentType: contentType, contentEncoding: "binary", content: content)
  }
}
