import Foundation
import SearchdWire

/// Prints replies for people, or as one JSON object with `--json` for scripts.
struct Output {
  var json: Bool
  var verbose: Bool

  func sent(_ bytes: [UInt8], to target: String) {
    if verbose { printErr("sending \(pythonBytesRepr(bytes)) to \(target)") }
  }

  func received(_ frame: Frame, from target: String) {
    guard verbose else { return }
    let raw = Message.encode(
      contentType: frame.header.contentType ?? "?", contentEncoding: frame.header.contentEncoding ?? "?",
      content: frame.content, byteorder: frame.header.byteorder ?? "?")
    printErr("received \(pythonBytesRepr(raw)) from \(target)")
  }

  func received(_ bytes: [UInt8], from target: String) {
    if verbose { printErr("received \(pythonBytesRepr(bytes)) from \(target)") }
  }

  /// The reply's header and content as JSON: JSON content parsed, other content as text and base64.
  func printJSON(_ frame: Frame, status: ExitStatus) {
    var object: [String: Any] = [
      "header": [
        "byteorder": frame.header.byteorder.map { $0 as Any } ?? NSNull(),
        "content-type": frame.header.contentType.map { $0 as Any } ?? NSNull(),
        "content-encoding": frame.header.contentEncoding.map { $0 as Any } ?? NSNull(),
        "content-length": frame.header.contentLength,
      ],
      "status": Int(status.rawValue),
    ]
    if frame.header.isJSON, let parsed = try? JSONSerialization.jsonObject(with: Data(frame.content)) {
      object["content"] = parsed
    } else {
      object["content_text"] = String(decoding: frame.content, as: UTF8.self)
      object["content_base64"] = Data(frame.content).base64EncodedString()
    }
    printJSON(object)
  }

  /// One JSON object on one line, keys sorted.
  func printJSON(_ object: [String: Any]) {
    let data =
      (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    FileHandle.standardOutput.write(data + Data("\n".utf8))
  }

  func line(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }
}

func printErr(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}
