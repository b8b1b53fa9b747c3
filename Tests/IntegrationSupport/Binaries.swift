import Foundation

/// Where the built executables are: beside the test bundle (SwiftPM builds them
/// first, the test target depends on them), or $SEARCHD_BIN_DIR.
enum Binaries {
  static let directory: URL = {
    if let dir = ProcessInfo.processInfo.environment["SEARCHD_BIN_DIR"] { return URL(fileURLWithPath: dir) }
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    // The bundle may be a directory (…/searchdPackageTests.xctest/…); climb to the folder holding searchd.
    while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("searchd").path) {
      dir = dir.deletingLastPathComponent()
    }
    return dir
  }()

  static var searchd: URL { directory.appendingPathComponent("searchd") }
  static var searchctl: URL { directory.appendingPathComponent("searchctl") }
  static var searchdIndex: URL { directory.appendingPathComponent("searchd-index") }

  /// Tests/IntegrationTests/Python, found from this source file.
  static let python = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("IntegrationTests/Python")
}
