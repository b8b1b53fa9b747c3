import ArgumentParser
import SearchdServer

/// The settings as command-line flags: one per entry of `Settings.all`, named and
/// explained by it (a test checks the two lists match). Values stay text here; the table
/// parses and checks them, flags and config file alike.
struct SettingFlags: ParsableArguments {
  @Option(name: .customLong("listen"), help: help("listen")) var listen: [String] = []
  @Option(name: .customLong("echo-listen"), help: help("echo-listen")) var echoListen: [String] = []
  @Option(name: .customLong("tls-listen"), help: help("tls-listen")) var tlsListen: [String] = []
  @Option(name: .customLong("tls-certificate"), help: help("tls-certificate")) var tlsCertificate: String?
  @Option(name: .customLong("tls-key"), help: help("tls-key")) var tlsKey: String?
  @Option(name: .customLong("tls-client-ca"), help: help("tls-client-ca")) var tlsClientCA: String?
  @Option(name: .customLong("tls-verify-clients"), help: help("tls-verify-clients")) var tlsVerifyClients: String?
  @Option(name: .customLong("tls-allowed-clients"), help: help("tls-allowed-clients")) var tlsAllowedClients: String?
  @Option(name: .customLong("tls-admin-clients"), help: help("tls-admin-clients")) var tlsAdminClients: String?
  @Option(name: .customLong("tls-handshake-timeout"), help: help("tls-handshake-timeout"))
  var tlsHandshakeTimeout: String?
  @Option(name: .customLong("proxy-listen"), help: help("proxy-listen")) var proxyListen: [String] = []
  @Option(name: .customLong("proxy-tls-listen"), help: help("proxy-tls-listen")) var proxyTLSListen: [String] = []
  @Option(name: .customLong("proxy-trusted-from"), help: help("proxy-trusted-from")) var proxyTrustedFrom: String?
  @Flag(
    name: .customLong("proxy-allow-local"), inversion: .prefixedNo, exclusivity: .chooseLast,
    help: help("proxy-allow-local"))
  var proxyAllowLocal: Bool?
  @Option(name: .customLong("admin-listen"), help: help("admin-listen")) var adminListen: [String] = []
  @Option(name: .customLong("admin-max-connections"), help: help("admin-max-connections"))
  var adminMaxConnections: String?
  @Option(name: .customLong("drain-delay"), help: help("drain-delay")) var drainDelay: String?
  @Option(name: .customLong("index"), help: help("index")) var index: String?
  @Option(name: .customLong("threads"), help: help("threads")) var threads: String?
  @Option(name: .customLong("log-level"), help: help("log-level")) var logLevel: String?
  @Option(name: .customLong("log-target"), help: help("log-target")) var logTarget: String?
  @Option(name: .customLong("max-connections"), help: help("max-connections")) var maxConnections: String?
  @Option(name: .customLong("max-header-bytes"), help: help("max-header-bytes")) var maxHeaderBytes: String?
  @Option(name: .customLong("max-content-length"), help: help("max-content-length")) var maxContentLength: String?
  @Option(name: .customLong("idle-timeout"), help: help("idle-timeout")) var idleTimeout: String?
  @Option(name: .customLong("request-timeout"), help: help("request-timeout")) var requestTimeout: String?
  @Option(name: .customLong("send-timeout"), help: help("send-timeout")) var sendTimeout: String?
  @Option(name: .customLong("listen-backlog"), help: help("listen-backlog")) var listenBacklog: String?
  @Option(name: .customLong("accepts-per-wakeup"), help: help("accepts-per-wakeup")) var acceptsPerWakeup: String?
  @Option(name: .customLong("read-size"), help: help("read-size")) var readSize: String?
  @Option(name: .customLong("output-high-watermark"), help: help("output-high-watermark"))
  var outputHighWatermark: String?
  @Option(name: .customLong("output-low-watermark"), help: help("output-low-watermark"))
  var outputLowWatermark: String?
  @Option(name: .customLong("requests-per-wakeup"), help: help("requests-per-wakeup"))
  var requestsPerWakeup: String?
  @Option(name: .customLong("max-in-flight"), help: help("max-in-flight")) var maxInFlight: String?
  @Option(name: .customLong("max-output-bytes"), help: help("max-output-bytes")) var maxOutputBytes: String?
  @Flag(
    name: .customLong("close-after-reply"), inversion: .prefixedNo, exclusivity: .chooseLast,
    help: help("close-after-reply"))
  var closeAfterReply: Bool?
  @Option(name: .customLong("shutdown-grace"), help: help("shutdown-grace")) var shutdownGrace: String?

  /// Each setting given on the command line, by name.
  var given: [String: [String]] {
    let single: [String: String?] = [
      "tls-certificate": tlsCertificate, "tls-key": tlsKey, "tls-client-ca": tlsClientCA,
      "tls-verify-clients": tlsVerifyClients, "tls-allowed-clients": tlsAllowedClients,
      "tls-admin-clients": tlsAdminClients, "tls-handshake-timeout": tlsHandshakeTimeout,
      "proxy-trusted-from": proxyTrustedFrom, "proxy-allow-local": proxyAllowLocal?.settingText,
      "admin-max-connections": adminMaxConnections, "drain-delay": drainDelay, "index": index, "threads": threads, "log-level": logLevel, "log-target": logTarget,
      "max-connections": maxConnections, "max-header-bytes": maxHeaderBytes, "max-content-length": maxContentLength,
      "idle-timeout": idleTimeout, "request-timeout": requestTimeout, "send-timeout": sendTimeout,
      "listen-backlog": listenBacklog, "accepts-per-wakeup": acceptsPerWakeup, "read-size": readSize,
      "output-high-watermark": outputHighWatermark, "output-low-watermark": outputLowWatermark,
      "requests-per-wakeup": requestsPerWakeup, "max-in-flight": maxInFlight, "max-output-bytes": maxOutputBytes,
      "close-after-reply": closeAfterReply?.settingText, "shutdown-grace": shutdownGrace,
    ]
    var out = single.compactMapValues { $0.map { [$0] } }
    if !listen.isEmpty { out["listen"] = listen }
    if !echoListen.isEmpty { out["echo-listen"] = echoListen }
    if !tlsListen.isEmpty { out["tls-listen"] = tlsListen }
    if !proxyListen.isEmpty { out["proxy-listen"] = proxyListen }
    if !adminListen.isEmpty { out["admin-listen"] = adminListen }
    if !proxyTLSListen.isEmpty { out["proxy-tls-listen"] = proxyTLSListen }
    return out
  }

  /// The flags over the config file's lines: a setting given as a flag ignores the file.
  func merged(over file: ConfigFile) -> [String: [String]] {
    file.values.merging(given) { _, flag in flag }
  }

  private static func help(_ name: String) -> ArgumentHelp {
    guard let s = Settings.named(name) else { preconditionFailure("no setting named \(name)") }
    return ArgumentHelp(s.help, valueName: s.valueName)
  }
}
