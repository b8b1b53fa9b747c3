/// A setting refused, phrased for the person who wrote it.
public struct SettingError: Error, CustomStringConvertible, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// One setting, defined once: its name (the long flag and the config key alike), its
/// type, its default (read off `ServerConfig()`, whose field it sets), its range, its help,
/// and whether a reload re-reads it. Flags, config keys, the defaults in `--help`, the
/// config file template and the README's table all come from, or are checked against,
/// `Settings.all`.
public struct Setting: Sendable {
  public let name: String
  /// The help sentence, without the default (added from the value itself).
  public let summary: String
  /// The placeholder in `--help` (`n`, `seconds`, `addr`…).
  public let valueName: String
  /// Given more than once, every value counts (`listen`); otherwise the last one does.
  public let repeatable: Bool
  /// A yes/no setting: a pair of flags that take no value (`--x`, `--no-x`).
  public let isSwitch: Bool
  /// `systemctl reload` (SIGHUP) applies a new value; otherwise it takes a restart.
  public let reloads: Bool
  /// The default as written in a config file; nil when there is none to write (unset,
  /// or derived from the machine).
  public let defaultText: String?
  /// What `--help` says of the default.
  public let defaultHelp: String
  /// Every value the setting takes, where there are few (shell completions offer them).
  public let choices: [String]?
  private let store: @Sendable (_ texts: [String], inout ServerConfig) throws(SettingError) -> Void
  /// The value `config` holds, as a config file would write it (empty when unset).
  public let texts: @Sendable (ServerConfig) -> [String]

  /// Sets this setting in `config` from the texts given for it (a flag's or a config
  /// file's values), checking type and range.
  public func apply(_ texts: [String], to config: inout ServerConfig) throws(SettingError) {
    guard !texts.isEmpty else { return }
    try store(texts, &config)
  }

  /// A single value within a range (`1...1024`, or `1...` for no upper bound).
  init<Value: SettingValue & Comparable, Range: SettingRange<Value>>(
    _ name: String, _ field: WritableKeyPath<ServerConfig, Value> & Sendable, in range: Range,
    valueName: String, reloads: Bool = false, defaultHelp: String? = nil, _ summary: String
  ) {
    let rule = range.rule
    self.init(
      name, field, valueName: valueName, reloads: reloads, defaultHelp: defaultHelp,
      check: { range.contains($0) ? nil : rule }, summary)
  }

  /// A yes/no setting: a pair of flags, `--name` and `--no-name`.
  init(
    switch name: String, _ field: WritableKeyPath<ServerConfig, Bool> & Sendable, valueName: String,
    reloads: Bool = false, _ summary: String
  ) {
    self.init(checked: name, field, valueName: valueName, reloads: reloads, summary)
  }

  /// A single value checked by `check` (a problem sentence, or nil). Not a yes/no one:
  /// that is `switch:`, so the flags generated from the table's text know it.
  init<Value: SettingValue>(
    _ name: String, _ field: WritableKeyPath<ServerConfig, Value> & Sendable, valueName: String,
    reloads: Bool = false, defaultHelp: String? = nil,
    check: (@Sendable (Value) -> String?)? = nil, _ summary: String
  ) {
    precondition(Value.self != Bool.self, "\(name): a yes/no setting is declared with switch:")
    self.init(
      checked: name, field, valueName: valueName, reloads: reloads, defaultHelp: defaultHelp, check: check, summary)
  }

  private init<Value: SettingValue>(
    checked name: String, _ field: WritableKeyPath<ServerConfig, Value> & Sendable, valueName: String,
    reloads: Bool = false, defaultHelp: String? = nil,
    check: (@Sendable (Value) -> String?)? = nil, _ summary: String
  ) {
    let initial = ServerConfig()[keyPath: field]
    self.init(
      name, summary, valueName: valueName, repeatable: false, isSwitch: Value.self == Bool.self, reloads: reloads,
      defaultText: defaultHelp == nil ? initial.settingText : nil, defaultHelp: defaultHelp ?? initial.settingText,
      choices: Value.self == Bool.self ? nil : Value.settingChoices, texts: { [$0[keyPath: field].settingText] }
    ) { (texts, config) throws(SettingError) in
      let value: Value = try Self.parse(texts.last!, name)
      if let problem = check?(value) { throw SettingError("\(name) \(problem)") }
      config[keyPath: field] = value
    }
  }

  /// An optional value: unset by default.
  init<Value: SettingValue>(
    _ name: String, _ field: WritableKeyPath<ServerConfig, Value?> & Sendable, valueName: String,
    reloads: Bool = false, defaultHelp: String, _ summary: String
  ) {
    self.init(
      name, summary, valueName: valueName, repeatable: false, reloads: reloads, defaultText: nil,
      defaultHelp: defaultHelp, choices: Value.settingChoices,
      texts: { $0[keyPath: field].map { [$0.settingText] } ?? [] }
    ) { (texts, config) throws(SettingError) in
      config[keyPath: field] = try Self.parse(texts.last!, name) as Value
    }
  }

  /// A repeatable list: the values given replace the default list. A default that is
  /// not a value of the field (one that depends on other settings) is told in words.
  init<Value: SettingValue>(
    list name: String, _ field: WritableKeyPath<ServerConfig, [Value]> & Sendable, valueName: String,
    reloads: Bool = false, defaultText: String? = nil, defaultHelp: String? = nil, _ summary: String
  ) {
    let initial = ServerConfig()[keyPath: field]
    self.init(
      name, summary, valueName: valueName, repeatable: true, reloads: reloads,
      defaultText: defaultText ?? initial.first?.settingText,
      defaultHelp: defaultHelp ?? (initial.isEmpty ? "none" : initial.map(\.settingText).joined(separator: ", ")),
      choices: Value.settingChoices, texts: { $0[keyPath: field].map(\.settingText) }
    ) { (texts, config) throws(SettingError) in
      var values: [Value] = []
      for text in texts { values.append(try Self.parse(text, name)) }
      config[keyPath: field] = values
    }
  }

  /// Every other initialiser ends here: what a setting is, and how it stores a value.
  private init(
    _ name: String, _ summary: String, valueName: String, repeatable: Bool, isSwitch: Bool = false, reloads: Bool,
    defaultText: String?, defaultHelp: String, choices: [String]?,
    texts: @escaping @Sendable (ServerConfig) -> [String],
    store: @escaping @Sendable (_ texts: [String], inout ServerConfig) throws(SettingError) -> Void
  ) {
    self.texts = texts
    self.name = name
    self.summary = summary
    self.valueName = valueName
    self.repeatable = repeatable
    self.isSwitch = isSwitch
    self.reloads = reloads
    self.defaultText = defaultText
    self.defaultHelp = defaultHelp
    self.choices = choices
    self.store = store
  }

  private static func parse<Value: SettingValue>(_ text: String, _ name: String) throws(SettingError) -> Value {
    guard let value = Value(settingText: text) else {
      throw SettingError("\(name) must be \(Value.settingKind), not \"\(text)\"")
    }
    return value
  }

  /// The help line: the summary, the default, and whether a reload applies it.
  public var help: String {
    "\(summary) Default: \(defaultHelp).\(reloads ? " A reload re-reads it." : "")"
  }
}

/// A setting's range, and how a refusal says it.
protocol SettingRange<Bound>: RangeExpression, Sendable where Bound: SettingValue {
  var rule: String { get }
}

extension ClosedRange: SettingRange where Bound: SettingValue {
  var rule: String { "must be from \(lowerBound.settingText) to \(upperBound.settingText)" }
}

extension PartialRangeFrom: SettingRange where Bound: SettingValue {
  var rule: String { "must be \(lowerBound.settingText) or more" }
}
