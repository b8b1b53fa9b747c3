import Foundation
import SearchdWire

/// The searchable data as loaded: exact keys to answers, keys as the UTF-8 bytes they were
/// written with. Two spellings of "café" (NFC and NFD) are two keys, as the reference's
/// Python dict has them; Swift's `String ==` would merge them. `LookupTable` is its
/// searchable form.
public struct SearchIndex: Sendable {
  public struct Entry: Sendable, Equatable {
    public var key: [UInt8]
    public var value: String
  }

  /// In the order given; each key once (a later duplicate replaced the earlier, as in Python).
  public let entries: [Entry]
  /// Where the entries came from: `built-in` or a file path.
  public let source: String

  /// Entries in the order added; a key added twice keeps its last value, in its first place.
  struct Builder {
    private var position: [[UInt8]: Int] = [:]
    private(set) var entries: [Entry] = []

    mutating func add(_ key: [UInt8], _ value: String) {
      if let at = position[key] {
        entries[at].value = value
      } else {
        position[key] = entries.count
        entries.append(Entry(key: key, value: value))
      }
    }
  }

  /// `pairs` in order; a key given twice keeps its last value.
  public init(pairs: [(key: [UInt8], value: String)], source: String) {
    var b = Builder()
    for (k, v) in pairs { b.add(k, v) }
    self.init(entries: b.entries, source: source)
  }

  private init(entries: [Entry], source: String) {
    self.entries = entries
    self.source = source
  }

  public init(entries: [String: String], source: String) {
    self.init(pairs: entries.map { (Array($0.key.utf8), $0.value) }, source: source)
  }

  public var count: Int { entries.count }

  /// The tutorial's own three entries.
  public static let builtIn = SearchIndex(
    pairs: [
      (Array("morpheus".utf8), "Follow the white rabbit. \u{1F430}"),
      (Array("ring".utf8), "In the caves beneath the Misty Mountains. \u{1F48D}"),
      (Array("\u{1F436}".utf8), "\u{1F43E} Playing ball! \u{1F3D0}"),
    ], source: "built-in")
}

/// Why an index file was refused, naming the file.
public struct IndexLoadError: Error, CustomStringConvertible, Sendable {
  public let path: String
  public let problem: String
  public var description: String { "cannot load index \(path): \(problem)" }
}

extension SearchIndex {
  /// Loads a JSON object of string keys to string values, keeping each key's bytes.
  /// Read member by member: no document tree of a million members is built first.
  public static func load(path: String) throws(IndexLoadError) -> SearchIndex {
    guard let data = FileManager.default.contents(atPath: path) else {
      let exists = FileManager.default.fileExists(atPath: path)
      throw IndexLoadError(path: path, problem: exists ? "it cannot be read" : "no such file")
    }
    var builder = Builder()
    var notString: String?
    let outcome: Result<Void, JSONParser.Failure> = data.withUnsafeBytes { raw in
      do throws(JSONParser.Failure) {
        try JSONParser.forEachMember(ofObject: raw) { key, value in
          guard let value else {
            notString = key
            return false
          }
          builder.add(Array(key.utf8), value)
          return true
        }
        return .success(())
      } catch {
        return .failure(error)
      }
    }
    switch outcome {
    case .success: break
    case .failure(.notAnObject):
      throw IndexLoadError(path: path, problem: "the top level must be a JSON object of string keys to string values")
    case .failure(let error):
      throw IndexLoadError(path: path, problem: "not valid JSON (\(error))")
    }
    if let notString { throw IndexLoadError(path: path, problem: "the value of \"\(notString)\" is not a string") }
    return SearchIndex(entries: builder.entries, source: path)
  }
}
