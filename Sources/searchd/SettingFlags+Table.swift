import ArgumentParser
import SearchdConfig
import SearchdServer

/// What the generated `SettingFlags` (SettingFlagsPlugin) takes from the settings table.
extension SettingFlags {
  /// The flags over the config file's lines: a setting given as a flag ignores the file.
  func merged(over file: ConfigFile) -> [String: [String]] {
    file.values.merging(given) { _, flag in flag }
  }

  static func help(_ name: String) -> ArgumentHelp {
    guard let s = Settings.named(name) else { preconditionFailure("no setting named \(name)") }
    return ArgumentHelp(s.help, valueName: s.valueName)
  }

  /// What a shell offers for the setting's value: its choices, a file, or anything.
  static func completion(_ name: String) -> CompletionKind {
    guard let s = Settings.named(name) else { preconditionFailure("no setting named \(name)") }
    if let choices = s.choices { return .list(choices) }
    return s.valueName == "file" ? .file() : .default
  }
}
