import Foundation
import SearchdConfig

/// Writes searchd's `SettingFlags`, one command-line option per entry of `Settings.all`,
/// so a setting's name is written once (in the table) and every flag is derived from it.
/// Run by the SettingFlagsPlugin at build time; its output is never committed. (`@main`,
/// not top-level code: the fuzzer build compiles every executable as a library.)
@main
enum SettingFlagsGenerator {
  static func main() {
    guard CommandLine.arguments.count == 2 else {
      FileHandle.standardError.write(Data("usage: SettingFlagsGenerator OUTPUT.swift\n".utf8))
      exit(64)
    }
    do {
      try Data(source.utf8).write(to: URL(fileURLWithPath: CommandLine.arguments[1]), options: .atomic)
    } catch {
      FileHandle.standardError.write(Data("SettingFlagsGenerator: \(error)\n".utf8))
      exit(1)
    }
  }
}

private let lines = Settings.all.map { setting -> (declaration: String, given: String) in
  let property = setting.name.split(separator: "-").enumerated().map { i, part in
    i == 0 ? String(part) : part.prefix(1).uppercased() + part.dropFirst()
  }.joined()
  let name = "name: .customLong(\"\(setting.name)\"), "
  let help = "help: Self.help(\"\(setting.name)\")"
  if setting.isSwitch {
    return (
      "  @Flag(\(name)inversion: .prefixedNo, exclusivity: .chooseLast, \(help)) var \(property): Bool?",
      "    if let v = \(property) { out[\"\(setting.name)\"] = [v.settingText] }"
    )
  }
  if setting.repeatable {
    return (
      "  @Option(\(name)\(help)) var \(property): [String] = []",
      "    if !\(property).isEmpty { out[\"\(setting.name)\"] = \(property) }"
    )
  }
  return (
    "  @Option(\(name)\(help)) var \(property): String?",
    "    if let v = \(property) { out[\"\(setting.name)\"] = [v] }"
  )
}

private let source = """
  // Generated from Settings.all by SettingFlagsGenerator at build time: not committed.
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
