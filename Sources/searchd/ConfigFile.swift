import Foundation
import SearchdConfig
import SearchdServer

/// `/etc/searchd/searchd.conf`: one `key = value` per line, keys named as the long flags
/// (the settings' names), `#` comments, repeatable keys repeated. Values are checked by
/// the settings table, as flags are.
struct ConfigFile {
  struct Problem: Error, CustomStringConvertible {
    let path: String
    let line: Int
    let message: String
    var description: String { line > 0 ? "\(path):\(line): \(message)" : "\(path): \(message)" }
  }

  /// Where the packages and `make install` put it, and where the unit points --config:
  /// the one file that may be absent (every setting then has its default).
  static let shippedPath = "/etc/searchd/searchd.conf"

  private(set) var values: [String: [String]] = [:]

  init() {}

  /// Whether anything is at `path` (a dangling link counts as absent).
  static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

  init(path: String) throws(Problem) {
    // Checked before reading: reading a FIFO would wait for a writer.
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
      throw Problem(path: path, line: 0, message: Self.exists(path) ? "cannot be read" : "no such file")
    }
    guard attributes[.type] as? FileAttributeType == .typeRegular else {
      throw Problem(path: path, line: 0, message: "is not a regular file")
    }
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
      guard let setting = Settings.named(key) else {
        throw Problem(path: path, line: n + 1, message: "unknown key \"\(key)\"")
      }
      if values[key] != nil && !setting.repeatable {
        throw Problem(path: path, line: n + 1, message: "\"\(key)\" is given twice")
      }
      // Each line checked alone, so a bad value is reported with its line.
      var scratch = ServerConfig()
      do { try setting.apply([value], to: &scratch) } catch {
        throw Problem(path: path, line: n + 1, message: error.description)
      }
      values[key, default: []].append(value)
    }
  }
}
