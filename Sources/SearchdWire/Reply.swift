/// The replies searchd sends, byte for byte as the reference server would.
public enum Reply {
  /// `{"result": TEXT}` as a text/json message.
  public static func result(_ text: String) -> [UInt8] {
    var content: [UInt8] = []
    content.reserveCapacity(text.utf8.count + 16)
    JSONWriter.appendObject(["result": .string(text)], to: &content)
    return Message.encode(contentType: Message.jsonType, contentEncoding: "utf-8", content: content)
  }

  public static func noMatch(query: [UInt8]) -> [UInt8] {
    result("No match for \"\(String(decoding: query, as: UTF8.self))\".")
  }

  public static func invalidAction(_ action: String) -> [UInt8] {
    result("Error: invalid action \"\(action)\".")
  }

  /// `First 10 bytes of request: ` and at most 10 bytes of the request's content.
  public static func binary(echoing content: some Collection<UInt8>) -> [UInt8] {
    var body = Array("First 10 bytes of request: ".utf8)
    body.append(contentsOf: content.prefix(10))
    return Message.encode(contentType: Message.binaryReplyType, contentEncoding: "binary", content: body)
  }

  /// `{"result": "Error: ...", "error": "code"}`: tutorial clients print the result, scripts match the code.
  public static func error(_ e: WireError) -> [UInt8] {
    var content: [UInt8] = []
    JSONWriter.appendObject(
      ["result": .string("Error: \(e.detail)."), "error": .string(e.code.rawValue)], to: &content)
    return Message.encode(contentType: Message.jsonType, contentEncoding: "utf-8", content: content)
  }
}

extension Reply {
  /// A result reply's content is these bytes, the text escaped as in a JSON string, then
  /// `suffix`: for whatever stores results without the parts every result shares (the index).
  public static let resultContentAround: (prefix: [UInt8], suffix: [UInt8]) = {
    var content: [UInt8] = []
    JSONWriter.appendObject(["result": .string("")], to: &content)
    return (Array(content.dropLast(2)), Array(content.suffix(2)))  // `{"result": "` and `"}`
  }()
}
