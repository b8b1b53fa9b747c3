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
}
