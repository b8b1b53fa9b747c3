import Logging
import SearchdSystem

/// Logs to journald natively: PRIORITY, SYSLOG_IDENTIFIER, CODE_* and every
/// metadata key as a `SEARCHD_*` field, so `journalctl -u searchd SEARCHD_ERROR=bad-json` works.
public struct JournalLogHandler: LogHandler {
  public var metadata: Logger.Metadata = [:]
  public var logLevel: Logger.Level = .info
  private let identifier: String

  public init(identifier: String = "searchd") {
    self.identifier = identifier
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    var fields = [
      "MESSAGE=\(event.message)",
      "PRIORITY=\(Self.priority(event.level))",
      "SYSLOG_IDENTIFIER=\(identifier)",
      "CODE_FILE=\(event.file)",
      "CODE_LINE=\(event.line)",
      "CODE_FUNC=\(event.function)",
    ]
    let merged = metadata.merging(event.metadata ?? [:]) { $1 }
    // An empty value is a field that does not apply (no client certificate): left out.
    for (key, value) in merged where "\(value)" != "" {
      fields.append("\(Self.fieldName(key))=\(value)")
    }
    Systemd.journalSend(fields)
  }

  /// syslog(3) priorities: journalctl -p filters on these.
  static func priority(_ level: Logger.Level) -> Int {
    switch level {
    case .trace, .debug: return 7
    case .info: return 6
    case .notice: return 5
    case .warning: return 4
    case .error: return 3
    case .critical: return 2
    }
  }

  /// Journal field names are upper-case letters, digits and underscores; ours carry the SEARCHD_ prefix.
  /// `message_id` is journald's own MESSAGE_ID, for the catalogue of start/ready/stop events.
  static func fieldName(_ key: String) -> String {
    if key == "message_id" { return "MESSAGE_ID" }
    var name = String(key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    if !name.hasPrefix("SEARCHD_") { name = "SEARCHD_" + name }
    return name
  }
}
