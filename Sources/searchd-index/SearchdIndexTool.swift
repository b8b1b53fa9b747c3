import ArgumentParser
import Foundation
import SearchdIndex
import SearchdSystem
import SearchdVersion

@main
struct SearchdIndexTool: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "searchd-index",
    abstract: "Compile and inspect searchd's index files.",
    discussion: """
      searchd's --index takes a JSON object of string keys to string values, or the compiled file `build` makes from
      one: mapped, not loaded, so it is ready at once and shared by every searchd on the machine.

      Exit status: 0 success, 1 no such key or a refused (corrupt, truncated, foreign) file, 2 a file that cannot be
      read or written.
      """,
    version: SearchdVersion.current,
    subcommands: [Build.self, Get.self, Info.self])
}

/// Ends the process after the message, if any, went to stderr.
func fail(_ status: Int32, _ message: String) -> Never {
  FileHandle.standardError.write(Data("searchd-index: \(message)\n".utf8))
  exit(status)
}

struct Build: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compile a JSON index into DEST (written beside it and renamed, so a reader never sees half a file).")

  @Argument(help: "The JSON index: an object of string keys to string values.") var source: String
  @Argument(help: "The compiled index to write.") var destination: String

  func run() throws {
    let start = MonotonicClock.nanoseconds()
    let file: MappedFile
    do {
      file = try MappedFile(path: source)
    } catch {
      fail(2, "cannot read \(source): \(error)")
    }
    let (entries, length): (Int, Int)
    switch compile(file) {
    case .success(let built): (entries, length) = built
    case .failure(let failure): fail(failure.status, failure.message)
    }
    let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
    print(
      "\(destination): \(entries) entries, \(length) bytes, compiled in "
        + String(format: "%.2f s (%.0f MB/s of JSON)", seconds, Double(file.bytes.count) / 1e6 / max(seconds, 1e-9)))
  }

  struct Failure: Error {
    let status: Int32
    let message: String
  }

  /// The entries and length written, or why not. The builder ends here either way, so a
  /// refused source leaves no temporary file behind (exit would skip its cleanup).
  private func compile(_ file: MappedFile) -> Result<(Int, Int), Failure> {
    var builder: IndexBuilder
    do {
      builder = try IndexBuilder(writingTo: destination)
    } catch {
      return .failure(Failure(status: 2, message: "cannot write \(destination): \(error)"))
    }
    do {
      try JSONIndexCompiler.compile(file.bytes, path: source, into: &builder) { file.doneReading(before: $0) }
    } catch {
      return .failure(Failure(status: 1, message: "\(error)"))
    }
    let entries = builder.count
    do {
      return .success((entries, try builder.commit()))
    } catch {
      return .failure(Failure(status: 2, message: "cannot write \(destination): \(error)"))
    }
  }
}

struct Get: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Print the value of KEY.")

  @Argument(help: "The index, compiled or JSON.") var index: String
  @Argument(help: "The key, matched byte for byte.") var key: String

  func run() throws {
    let table = load(index, verifyChecksum: false)
    guard let value = table.value(forKey: key) else { fail(1, "no entry for \"\(key)\" in \(index)") }
    print(value)
  }
}

struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show an index's entries, size and whether its checksum holds (reads every byte).")

  @Argument(help: "The index, compiled or JSON.") var index: String

  func run() throws {
    let table = load(index, verifyChecksum: false)
    let intact = table.isIntact
    print("index:    \(index)")
    print("format:   \(table.format == .compiled ? "compiled, version \(table.formatVersion)" : table.format.rawValue)")
    print("entries:  \(table.count)")
    print("bytes:    \(table.byteCount)")
    print("buckets:  \(table.bucketCount)")
    print("suggest:  \(suggestLine(table))")
    print("checksum: \(intact ? "ok" : "MISMATCH: the file is corrupt")")
    if !intact { throw ExitCode(1) }
  }
}

/// Whether `table` serves suggest, and how its trie's nodes came.
func suggestLine(_ table: LookupTable) -> String {
  guard table.hasSuggestions else { return "no: built before suggestions; rebuild it to serve suggest" }
  let nodes = "\(table.listedNodes) nodes listed"
  return table.nodesListedAtLoad
    ? "yes (the keys in order; \(nodes) at load: rebuild it to list more in the file)"
    : "yes (the keys in order, \(nodes))"
}

/// The table at `path`, or the reason it is refused and the exit.
func load(_ path: String, verifyChecksum: Bool) -> LookupTable {
  do {
    return try LookupTable.load(path: path, verifyChecksum: verifyChecksum)
  } catch {
    fail(error.problem.hasPrefix("no such file") || error.problem.hasPrefix("it cannot be read") ? 2 : 1, "\(error)")
  }
}
