import Foundation
import SearchdConfig
import Testing

@testable import IntegrationSupport

/// `Settings.all` is the one definition of every setting: the flags, the config file
/// template and docs/SETTINGS.md's table must say the same, and every flag must reach it.
@Suite(.daemonSuite) struct SettingsTests {
  private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// The long options `searchd --help` knows, from ArgumentParser's own dump.
  @Test func everySettingIsAFlagAndEveryFlagASetting() throws {
    let dump = try runProcess(Binaries.searchd, ["--experimental-dump-help"])
    let object = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any]
    let arguments = ((object?["command"] as? [String: Any])?["arguments"] as? [[String: Any]]) ?? []
    var flags = Set<String>()
    for a in arguments {
      for n in (a["names"] as? [[String: Any]]) ?? [] where n["kind"] as? String == "long" {
        if let name = n["name"] as? String { flags.insert(name) }
      }
    }
    let settings = Set(Settings.all.map(\.name))
    let inversions = Set(settings.map { "no-\($0)" })
    #expect(settings.subtracting(flags).isEmpty, "settings without a flag")
    #expect(flags.subtracting(settings).subtracting(inversions).subtracting(["config", "help", "version"]).isEmpty)
  }

  /// Each flag reaches the table: a value of the wrong kind is refused naming the setting.
  @Test func everyFlagIsCheckedByItsSetting() throws {
    // A file or a list of names takes any text (whether the file is good is found at start);
    // a yes/no setting is a pair of flags that take no value.
    for s in Settings.all where !["file", "names", "yes|no"].contains(s.valueName) {
      let r = try runProcess(Binaries.searchd, ["--\(s.name)", "not a value"], timeout: 10)
      #expect(r.status == 64, "--\(s.name) with a bad value")
      #expect(r.stderr.contains(s.name), "--\(s.name): \(r.stderr)")
    }
  }

  /// Each line of the config file goes through the same check, with its line named.
  @Test func everyConfigKeyIsCheckedByItsSetting() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("searchd-\(UUID()).conf").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    for s in Settings.all where !["file", "names"].contains(s.valueName) && s.name != "echo-listen" {
      try Data("# a comment\n\(s.name) = not a value\n".utf8).write(to: URL(fileURLWithPath: path))
      let r = try runProcess(Binaries.searchd, ["--config", path], timeout: 10)
      #expect(r.status == 78, "\(s.name) = not a value")
      #expect(r.stderr.contains("\(path):2: \(s.name)"), "\(s.name): \(r.stderr)")
    }
  }

  /// systemd/searchd.conf shows every setting, commented out at its default.
  @Test func theConfigTemplateListsEverySettingAtItsDefault() throws {
    let text = try String(contentsOf: Self.root.appendingPathComponent("systemd/searchd.conf"), encoding: .utf8)
    let lines = text.split(separator: "\n").map(String.init)
    for s in Settings.all {
      let expected = s.defaultText.map { "#\(s.name) = \($0)" }
      let found = lines.contains { line in
        expected.map { line == $0 } ?? line.hasPrefix("#\(s.name) = ")
      }
      #expect(found, "systemd/searchd.conf lacks \(expected ?? "#\(s.name) = …")")
    }
    // Every `#key = value` line (prose comments have a space after the #).
    for line in lines where line.hasPrefix("#") && !line.hasPrefix("# ") && line.contains(" = ") {
      let key = String(line.dropFirst().prefix { $0 != " " })
      #expect(Settings.named(key) != nil, "systemd/searchd.conf names an unknown setting: \(line)")
    }
  }

  /// docs/SETTINGS.md's table of settings is the table's own rendering.
  @Test func theDocumentedTableIsTheSettingsTable() throws {
    let readme = try String(contentsOf: Self.root.appendingPathComponent("docs/SETTINGS.md"), encoding: .utf8)
    let rows = Settings.all.map { s in
      "| `--\(s.name)` | \(s.defaultHelp) | \(s.reloads ? "yes" : "") | \(s.summary) |"
    }
    let table = (["| setting | default | reload | |", "|---|---|---|---|"] + rows).joined(separator: "\n")
    let present = readme.contains(table)
    #expect(present, "docs/SETTINGS.md's settings table should read:\n\(table)")
  }
}
