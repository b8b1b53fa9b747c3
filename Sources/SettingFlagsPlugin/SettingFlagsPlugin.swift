import Foundation
import PackagePlugin

/// Generates searchd's command-line flags from the settings table's source, so no
/// setting's name is spelled a second time. It reads `Settings.all` as text: each entry is
/// `Setting(`, then `list:` or `switch:` where it is one (the initialisers with those
/// labels take only list and yes/no fields, and the unlabelled ones refuse yes/no, so the
/// compiler and the table's construction hold the labels true), then the name. No tool of
/// its own: a plugin's executable, and what it imports, would be built again for the host
/// in every build directory.
@main
struct SettingFlagsPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    let table = context.package.directoryURL.appending(path: "Sources/SearchdConfig/Settings.swift")
    let text = try String(contentsOf: table, encoding: .utf8)
    let generated = context.pluginWorkDirectoryURL.appending(path: "SettingFlags.generated")
    let output = context.pluginWorkDirectoryURL.appending(path: "SettingFlags.swift")
    let source = Self.source(Self.settings(in: text))
    // Rewritten only when it changes, so an unchanged table rebuilds nothing.
    if (try? String(contentsOf: generated, encoding: .utf8)) != source {
      try source.write(to: generated, atomically: true, encoding: .utf8)
    }
    return [
      .buildCommand(
        displayName: "Generating searchd's flags from the settings table",
        executable: URL(fileURLWithPath: "/bin/cp"),
        arguments: [generated.path, output.path],
        inputFiles: [table, generated],
        outputFiles: [output])
    ]
  }

  enum Shape: String { case single, list, `switch` }

  /// Each `Setting(` in the table's text: its name and shape.
  static func settings(in text: String) -> [(name: String, shape: Shape)] {
    var found: [(String, Shape)] = []
    var rest = text[...]
    while let open = rest.range(of: "Setting(") {
      rest = rest[open.upperBound...].drop { $0.isWhitespace }
      var shape = Shape.single
      for label in [Shape.list, .switch] where rest.hasPrefix("\(label.rawValue):") {
        shape = label
        rest = rest.dropFirst(label.rawValue.count + 1).drop { $0.isWhitespace }
      }
      guard rest.first == "\"", let close = rest.dropFirst().firstIndex(of: "\"") else { continue }
      found.append((String(rest[rest.index(after: rest.startIndex)..<close]), shape))
      rest = rest[close...]
    }
    return found
  }

  static func source(_ settings: [(name: String, shape: Shape)]) -> String {
    let lines = settings.map { name, shape -> (declaration: String, given: String) in
      let property = name.split(separator: "-").enumerated().map { i, part in
        i == 0 ? String(part) : part.prefix(1).uppercased() + part.dropFirst()
      }.joined()
      let prefix = "name: .customLong(\"\(name)\"), "
      let help = "help: Self.help(\"\(name)\"), completion: Self.completion(\"\(name)\")"
      switch shape {
      case .switch:
        return (
          "  @Flag(\(prefix)inversion: .prefixedNo, exclusivity: .chooseLast, help: Self.help(\"\(name)\")) var \(property): Bool?",
          "    if let v = \(property) { out[\"\(name)\"] = [v.settingText] }"
        )
      case .list:
        return (
          "  @Option(\(prefix)\(help)) var \(property): [String] = []",
          "    if !\(property).isEmpty { out[\"\(name)\"] = \(property) }"
        )
      case .single:
        return (
          "  @Option(\(prefix)\(help)) var \(property): String?",
          "    if let v = \(property) { out[\"\(name)\"] = [v] }"
        )
      }
    }
    return """
      // Generated from Settings.swift by SettingFlagsPlugin at build time: not committed.
      import ArgumentParser
      import SearchdConfig

      /// The settings as command-line flags, one per entry of `Settings.all`. Values stay text
      /// here; the table parses and checks them, flags and config file alike.
      struct SettingFlags: ParsableArguments {
      \(lines.map(\.declaration).joined(separator: "\n"))

        /// Each setting given on the command line, by name.
        var given: [String: [String]] {
          var out: [String: [String]] = [:]
      \(lines.map(\.given).joined(separator: "\n"))
          return out
        }
      }

      """
  }
}
