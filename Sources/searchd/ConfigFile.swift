import Foundation

/// `/etc/searchd/searchd.conf`: one `key = value` per line, keys named as the long
/// flags (`listen`, `index`, `idle-timeout`…), `#` comments, repeatable keys repeated.
/// Flags given on the command line override the file.
struct ConfigFile {
  struct Problem: Error, CustomStringConvertible {
    let path: String
    let line: Int
    let message: String
    var description: String { "\(path):\(line): \(message)" }
  }

  static let repeatable: Set<String> = ["listen", "echo-listen"]
  static let known: Set<String> = [
    "listen", "echo-listen", "index", "threads", "log-level", "log-target", "max-connections", "max-header-bytes",
    "max-content-length", "idle-timeout", "request-timeout", "send-timeout", "listen-backlog", "accepts-per-wakeup",
    "read-size", "output-high-watermark", "output-low-watermark", "shutdown-grace", "requests-per-wakeup",
    "max-in-flight", "max-output-bytes", "close-after-reply",
  ]

  private(set) var values: [String: [String]] = [:]

  init() {}

  init(path: String) throws(Problem) {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Problem(path: path, line: 0, message: "cannot be read")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw Problem(path: path, line: 0, message: "is not UTF-8 text")
    }
    for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("#") { continue }
      guard let eq = line.firstIndex(of: "=") else {
        throw Problem(path: path, line: n + 1, message: "expected `key = value`")
      }
      let key = line[..<eq].trimmingCharacters(in: .whitespaces)
      var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
      if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") {
        value = String(value.dropFirst().dropLast())
      }
      guard Self.known.contains(key) else {
        throw Problem(path: path, line: n + 1, message: "unknown key \"\(key)\"")
      }
      if values[key] != nil && !Self.repeatable.contains(key) {
        throw Problem(path: path, line: n + 1, message: "\"\(key)\" is given twice")
      }
      values[key, default: []].append(value)
    }
  }

  func string(_ key: String) -> String? { values[key]?.last }
  func strings(_ key: String) -> [String] { values[key] ?? [] }
}
