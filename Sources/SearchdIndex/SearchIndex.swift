import Foundation

/// The searchable data: exact keys to answers. Immutable once built, so every
/// loop can read it without locks; a reload builds a new one and swaps it whole.
public final class SearchIndex: Sendable {
  /// Keys are compared as UTF-8 bytes, as the reference's Python dict compares them;
  /// Swift's `String ==` would also match canonically equivalent spellings.
  private let entries: [[UInt8]: String]
  /// Where the entries came from: `built-in` or a file path.
  public let source: String

  public init(entries: [String: String], source: String) {
    var table: [[UInt8]: String] = [:]
    table.reserveCapacity(entries.count)
    for (k, v) in entries { table[Array(k.utf8)] = v }
    self.entries = table
    self.source = source
  }

  public var count: Int { entries.count }

  public func lookup(_ key: [UInt8]) -> String? { entries[key] }

  public func lookup(_ key: String) -> String? { entries[Array(key.utf8)] }

  /// Every entry, for building derived tables (keys as UTF-8 bytes).
  public func forEach(_ body: ([UInt8], String) -> Void) {
    for (k, v) in entries { body(k, v) }
  }

  /// The tutorial's own three entries.
  public static let builtIn = SearchIndex(
    entries: [
      "morpheus": "Follow the white rabbit. \u{1F430}",
      "ring": "In the caves beneath the Misty Mountains. \u{1F48D}",
      "\u{1F436}": "\u{1F43E} Playing ball! \u{1F3D0}",
    ], source: "built-in")
}

/// Why an index file was refused, naming the file.
public struct IndexLoadError: Error, CustomStringConvertible, Sendable {
  public let path: String
  public let problem: String
  public var description: String { "cannot load index \(path): \(problem)" }
}

extension SearchIndex {
  /// Loads a JSON object of string keys to string values.
  public static func load(path: String) throws(IndexLoadError) -> SearchIndex {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      let reason = (error as NSError).localizedFailureReason ?? "it cannot be read"
      throw IndexLoadError(path: path, problem: FileManager.default.fileExists(atPath: path) ? reason : "no such file")
    }
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: data, options: [])
    } catch {
      throw IndexLoadError(path: path, problem: "not valid JSON (\(describe(error)))")
    }
    guard let dict = object as? [String: Any] else {
      throw IndexLoadError(path: path, problem: "the top level must be a JSON object of string keys to string values")
    }
    var entries: [String: String] = [:]
    entries.reserveCapacity(dict.count)
    for (k, v) in dict {
      guard let s = v as? String else {
        throw IndexLoadError(path: path, problem: "the value of \"\(k)\" is not a string")
      }
      entries[k] = s
    }
    return SearchIndex(entries: entries, source: path)
  }

  private static func describe(_ error: Error) -> String {
    let ns = error as NSError
    return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
  }
}
