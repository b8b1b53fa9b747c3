import SearchdSystem
import SearchdWire

/// An index in its searchable form: an image in `IndexFormat`, mapped from a compiled file
/// or compiled in memory from JSON, with every value escaped once as its hit reply holds it. Lookups
/// take the query's bytes where they lie (in the read buffer) and answer with bytes in the
/// image, so a hit allocates nothing and retains nothing. Immutable, so every loop reads
/// it without locks; a reload makes a new one and swaps it whole.
public final class LookupTable: @unchecked Sendable {
  // @unchecked: the image is never written once made.
  public enum Format: String, Sendable {
    case builtIn = "built-in"
    case json
    case compiled
  }

  public let image: IndexImage
  @usableFromInline let layout: IndexLayout
  /// Where the entries came from: `built-in` or a file path.
  public let source: String
  public let format: Format
  /// Monotonic time it took to map or compile, for stats.
  public let buildNanoseconds: UInt64
  /// The trie's biggest nodes, for suggestions: the file's, or for a version 2 file a few
  /// listed at load (`NodeSection.builtAtLoad`); nil without a suggest section.
  let nodes: NodeSection?
  /// What a version 2 file's nodes were listed into, freed with the table.
  private let listedAtLoad: UnsafeMutableRawBufferPointer?

  public init(
    image: IndexImage, source: String, format: Format, buildNanoseconds: UInt64 = 0, verifyChecksum: Bool = true
  ) throws(IndexFormatError) {
    layout = try IndexLayout(validating: image.bytes, verifyBody: verifyChecksum)
    if let nodes = layout.nodes {
      self.nodes = nodes
      listedAtLoad = nil
    } else if let section = layout.suggest {
      let bytes = NodeSection.encode(KeyTrie(section: section, layout: layout), NodeSection.listedAtLoad)
      let owned = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
      bytes.withUnsafeBytes { owned.copyMemory(from: $0) }
      listedAtLoad = owned
      // Made by the line above from the same keys: it validates.
      nodes = try! NodeSection(validating: UnsafeRawBufferPointer(owned), entries: section.count)
    } else {
      nodes = nil
      listedAtLoad = nil
    }
    self.image = image
    self.source = source
    self.format = format
    self.buildNanoseconds = buildNanoseconds
  }

  deinit { listedAtLoad?.deallocate() }

  /// A table of `pairs` in order (a key given twice keeps its last value).
  public convenience init(pairs: [(key: String, value: String)], source: String) {
    var builder = IndexBuilder()
    for (k, v) in pairs {
      // In memory, adding cannot fail.
      Array(k.utf8).withUnsafeBytes { key in Array(v.utf8).withUnsafeBytes { try! builder.add(key: key, value: $0) } }
    }
    // A compiled image always validates; a failure here is a bug in the builder.
    try! self.init(image: builder.finish(), source: source, format: .builtIn)
  }

  /// The tutorial's own three entries.
  public static let builtIn = LookupTable(
    pairs: [
      ("morpheus", "Follow the white rabbit. \u{1F430}"),
      ("ring", "In the caves beneath the Misty Mountains. \u{1F48D}"),
      ("\u{1F436}", "\u{1F43E} Playing ball! \u{1F3D0}"),
    ], source: "built-in")

  public var count: Int { layout.entryCount }
  /// The hash table's size (a power of two, more than the entries).
  public var bucketCount: Int { Int(layout.bucketMask) + 1 }
  /// The image's size in bytes.
  public var byteCount: Int { image.bytes.count }

  /// The hit reply's text for `query` (its value, escaped as the reply's JSON string holds
  /// it), nil for a miss: valid while the table lives.
  @inlinable @inline(__always) public func text(forQuery query: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
    layout.text(forQuery: query)
  }

  /// Every entry's key and text, in table order.
  public func forEachEntry(_ body: (_ key: UnsafeRawBufferPointer, _ text: UnsafeRawBufferPointer) -> Void) {
    layout.forEachEntry(body)
  }

  /// Whether the index holds what suggestions read (files of format version 1 do not).
  public var hasSuggestions: Bool { layout.suggest != nil }

  /// How many trie nodes list their children: the file's (version 3), or those listed at
  /// load (version 2).
  public var listedNodes: Int { nodes?.nodeCount ?? 0 }

  /// Whether the nodes were listed at load, the file being older than the node section.
  public var nodesListedAtLoad: Bool { listedAtLoad != nil }

  /// The format version of the image.
  public var formatVersion: UInt32 { layout.version }

  /// The key and text of the suggestion at `position` among the sorted keys.
  public func suggestion(at position: Int) -> (key: UnsafeRawBufferPointer, text: UnsafeRawBufferPointer) {
    let empty = UnsafeRawBufferPointer(start: nil, count: 0)
    guard let section = layout.suggest, position >= 0, position < section.count,
      let r = layout.record(at: section.offset(position))
    else { return (empty, empty) }
    return r
  }

  /// Whether the image still sums to its checksum (a pass over every byte).
  public var isIntact: Bool { layout.bodyIsIntact() }

  /// The value of `key`, compared as bytes; nil if absent (for tests and tools).
  public func value(forKey key: String) -> String? {
    Array(key.utf8).withUnsafeBytes { text(forQuery: $0) }.flatMap(Self.value(ofText:))
  }

  /// The value an entry's text holds.
  public static func value(ofText text: UnsafeRawBufferPointer) -> String? {
    var utf8: [UInt8] = []
    return JSONParser.unescape(text, into: &utf8) ? String(decoding: utf8, as: UTF8.self) : nil
  }
}

extension LookupTable {
  /// Loads an index file: a compiled one (told by its magic number) is mapped and checked,
  /// a JSON one compiled in memory, its file's pages given back as the parse moves on.
  public static func load(path: String, verifyChecksum: Bool = true) throws(IndexLoadError) -> LookupTable {
    let start = MonotonicClock.nanoseconds()
    let file: MappedFile
    do {
      file = try MappedFile(path: path)
    } catch {
      switch error {
      case .system(let e):
        throw IndexLoadError(path: path, problem: e.errno == .noSuchFile ? "no such file" : "it cannot be read (\(e))")
      case .notRegularFile:
        throw IndexLoadError(path: path, problem: error.description, isNotAFile: true)
      }
    }
    let compiled = IndexFormat.hasMagic(file.bytes)
    // Before the checksum pass faults the pages in, so they are mapped large from the start.
    if compiled { file.preferHugePages() }
    let image =
      compiled
      ? IndexImage(mapping: file)
      : try JSONIndexCompiler.compile(file.bytes, path: path) { file.doneReading(before: $0) }
    do throws(IndexFormatError) {
      return try LookupTable(
        image: image, source: path, format: compiled ? .compiled : .json,
        buildNanoseconds: MonotonicClock.nanoseconds() - start, verifyChecksum: compiled && verifyChecksum)
    } catch {
      throw IndexLoadError(path: path, problem: "\(error)")
    }
  }
}
