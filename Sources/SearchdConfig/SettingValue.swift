import Logging
import SearchdSystem

/// A type a setting may have: read from the text of a flag or a config line, and shown
/// back the same way (for defaults in `--help`, the config file template, the README).
public protocol SettingValue: Sendable {
  init?(settingText: String)
  var settingText: String { get }
  /// What the value is, for error messages ("a whole number", "a number of seconds").
  static var settingKind: String { get }
  /// Every value there is, for a setting of a few (shell completions); nil for the rest.
  static var settingChoices: [String]? { get }
}

extension SettingValue {
  public static var settingChoices: [String]? { nil }
}

extension SettingValue where Self: CaseIterable & RawRepresentable, RawValue == String {
  public static var settingChoices: [String]? { allCases.map(\.rawValue) }
  public static var settingKind: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
}

extension Int: SettingValue {
  public init?(settingText: String) { self.init(settingText) }
  public var settingText: String { String(self) }
  public static var settingKind: String { "a whole number" }
}

extension Int32: SettingValue {
  public init?(settingText: String) { self.init(settingText) }
  public var settingText: String { String(self) }
  public static var settingKind: String { "a whole number" }
}

/// Seconds, written as a decimal number (`1.5`), kept to the millisecond.
extension Duration: SettingValue {
  public init?(settingText: String) {
    guard let s = Double(settingText), s.isFinite, s >= 0, s < 1e9 else { return nil }
    self = .milliseconds(Int64((s * 1000).rounded()))
  }
  public var settingText: String {
    let ms = Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    let s = ms / 1000
    return s == s.rounded() ? String(Int(s)) : String(s)
  }
  public static var settingKind: String { "a number of seconds, 0 or more" }
}

/// `yes`/`no` (also `true`/`false`), as config files spell switches.
extension Bool: SettingValue {
  public init?(settingText: String) {
    switch settingText.lowercased() {
    case "yes", "true": self = true
    case "no", "false": self = false
    default: return nil
    }
  }
  public var settingText: String { self ? "yes" : "no" }
  public static var settingKind: String { "yes or no" }
}

/// The settings of this type are file paths: an empty one names no file.
extension String: SettingValue {
  public init?(settingText: String) {
    guard !settingText.isEmpty else { return nil }
    self = settingText
  }
  public var settingText: String { self }
  public static var settingKind: String { "a file path, not empty" }
}

extension Endpoint: SettingValue {
  public init?(settingText: String) { try? self.init(parsing: settingText) }
  public var settingText: String { description }
  public static var settingKind: String { "HOST:PORT, [IPv6]:PORT or unix:/path" }
}

extension Logger.Level: SettingValue {
  public init?(settingText: String) { self.init(rawValue: settingText) }
  public var settingText: String { rawValue }
}

/// What the event loops wait with (SearchdLoop's `IOBackend`), or leave it to the kernel.
public enum IOBackendChoice: String, Sendable, CaseIterable, SettingValue {
  /// io_uring where the kernel allows it, else epoll (saying why, once).
  case auto
  case epoll
  case ioUring = "io_uring"

  public init?(settingText: String) { self.init(rawValue: settingText) }
  public var settingText: String { rawValue }
}

/// Where logs go.
public enum LogTarget: String, Sendable, CaseIterable, SettingValue {
  /// journald when stderr is connected to it, else stderr.
  case auto
  case journal
  case stderr

  public init?(settingText: String) { self.init(rawValue: settingText) }
  public var settingText: String { rawValue }
}
