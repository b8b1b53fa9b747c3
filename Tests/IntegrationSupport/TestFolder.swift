import Foundation

/// A folder of one test's own under the temporary directory, for the files it makes
/// (configs, indexes, FIFOs), and the ways the tests make them.
struct TestFolder {
  let url: URL

  init(_ prefix: String) {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  var path: String { url.path }
  func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  /// Writes `text` to `name`; its path.
  @discardableResult
  func write(_ text: String, to name: String) throws -> String {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path(name)))
    return path(name)
  }

  /// `entries` as a JSON index, compiled by searchd-index into `name`; its path.
  func compiled(_ name: String, _ entries: [String: String]) throws -> String {
    let json = path("\(name).json")
    try JSONSerialization.data(withJSONObject: entries).write(to: URL(fileURLWithPath: json))
    let r = try runProcess(Binaries.searchdIndex, ["build", json, path(name)], timeout: 60)
    try check(r.status == 0, "searchd-index build: \(r.stderr)")
    try check(r.stdout.contains("\(entries.count) entries"), "searchd-index build said \(r.stdout)")
    return path(name)
  }

  func remove() { try? FileManager.default.removeItem(at: url) }
}
