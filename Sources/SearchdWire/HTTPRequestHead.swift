/// The head of an HTTP/1.x request, read strictly and within bounds, for the admin
/// listener: a request line and header lines, nothing more (no body is ever accepted).
/// A pure decoder: give it the bytes so far, it says whether the head is whole.
public struct HTTPRequestHead: Equatable, Sendable {
  public let method: String
  /// The path, without a query string.
  public let path: String
  public let minorVersion: Int

  /// The most a head may be, request line and headers together.
  public static let maxBytes = 8192
  public static let maxRequestLine = 1024
  public static let maxHeaders = 64

  public enum Outcome: Equatable, Sendable {
    case head(HTTPRequestHead, length: Int)
    case needMore
    /// Refused, with the status to answer (400, 405, 414, 431, 501, 505).
    case refused(status: Int, reason: String)
  }

  public static func decode(_ bytes: UnsafeRawBufferPointer) -> Outcome {
    // The request line first: its length is bounded on its own.
    guard let lineEnd = firstLF(bytes, from: 0, limit: maxRequestLine) else {
      return bytes.count >= maxRequestLine
        ? .refused(status: 414, reason: "request line too long") : needMoreOr431(bytes)
    }
    guard let line = text(bytes, 0, lineEnd) else { return .refused(status: 400, reason: "malformed request line") }
    let parts = line.split(separator: " ", omittingEmptySubsequences: false)
    guard parts.count == 3, !parts[0].isEmpty, parts[1].first == "/" else {
      return .refused(status: 400, reason: "malformed request line")
    }
    guard parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0" else {
      return .refused(status: 505, reason: "only HTTP/1.0 and HTTP/1.1")
    }
    guard parts[0].allSatisfy({ $0.isASCII && $0.isUppercase }) else {
      return .refused(status: 400, reason: "malformed method")
    }
    // Headers: each line "name: value", until an empty line.
    var at = lineEnd + 1
    var count = 0
    while true {
      guard let end = firstLF(bytes, from: at, limit: maxBytes) else { return needMoreOr431(bytes) }
      guard let header = text(bytes, at, end) else { return .refused(status: 400, reason: "malformed header") }
      at = end + 1
      if header.isEmpty { break }
      count += 1
      guard count <= maxHeaders else { return .refused(status: 431, reason: "too many headers") }
      guard let colon = header.firstIndex(of: ":"), colon != header.startIndex,
        !header[..<colon].contains(where: { $0 == " " || $0 == "\t" })
      else { return .refused(status: 400, reason: "malformed header") }
      let name = header[..<colon].lowercased()
      let value = header[header.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
      if name == "content-length" && value != "0" || name == "transfer-encoding" {
        return .refused(status: 400, reason: "a request body is not accepted")
      }
    }
    let method = String(parts[0])
    guard method == "GET" || method == "HEAD" else {
      return .refused(status: 405, reason: "only GET and HEAD")
    }
    let target = parts[1]
    let path = target.firstIndex(of: "?").map { target[..<$0] } ?? target[...]
    return .head(
      HTTPRequestHead(method: method, path: String(path), minorVersion: parts[2] == "HTTP/1.1" ? 1 : 0), length: at)
  }

  private static func needMoreOr431(_ bytes: UnsafeRawBufferPointer) -> Outcome {
    bytes.count >= maxBytes ? .refused(status: 431, reason: "request head too large") : .needMore
  }

  /// The index of the next LF at or after `from`, looking no further than `limit` bytes
  /// from the start.
  private static func firstLF(_ bytes: UnsafeRawBufferPointer, from: Int, limit: Int) -> Int? {
    let end = min(bytes.count, limit)
    guard from < end else { return nil }
    return bytes[from..<end].firstIndex(of: 0x0A)
  }

  /// The line from `start` to the LF at `end`, CRLF or LF ended; nil if it holds control
  /// characters or is not ASCII.
  private static func text(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String? {
    var stop = end
    if stop > start && bytes[stop - 1] == 0x0D { stop -= 1 }
    let line = bytes[start..<stop]
    guard line.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }) else { return nil }
    return String(decoding: line, as: UTF8.self)
  }
}
