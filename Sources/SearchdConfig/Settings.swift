/// Every setting of searchd, in the order `--help` and the config template list them.
/// The one place a setting is defined: add one here and it is a flag, a config key, a
/// line of `systemd/searchd.conf` and a row of the README (the last two are checked).
/// The flags are generated from this file's text (SettingFlagsPlugin): each entry is
/// `Setting(` then `list:` or `switch:` where it is one (the compiler holds the label to
/// the field's type), then its name as a string literal.
public enum Settings {
  public static let all: [Setting] = [
    Setting(
      list: "listen", \.listen, valueName: "addr", defaultText: ServerConfig.defaultListen.settingText,
      defaultHelp:
        "\(ServerConfig.defaultListen.settingText) when no tls-listen, proxy-listen or proxy-tls-listen is given",
      "Serve the search protocol on ADDR: HOST:PORT, [IPv6]:PORT or unix:/path. Repeatable; every address a host name resolves to is bound; port 0 picks one (logged)."
    ),
    Setting(
      list: "echo-listen", \.echoListen, valueName: "addr",
      "Serve the echo service on ADDR (the forms of listen). Repeatable."),
    Setting(
      list: "tls-listen", \.tlsListen, valueName: "addr",
      "Serve the search protocol over TLS on ADDR (the forms of listen). Repeatable; needs tls-certificate and tls-key."
    ),
    Setting(
      "tls-certificate", \.tls.certificate, valueName: "file", reloads: true, defaultHelp: "none",
      "The TLS certificate chain (PEM). A bare name is looked up in $CREDENTIALS_DIRECTORY (systemd's LoadCredential=)."
    ),
    Setting(
      "tls-key", \.tls.key, valueName: "file", reloads: true, defaultHelp: "none",
      "The TLS private key (PEM); a bare name as for tls-certificate."),
    Setting(
      "tls-client-ca", \.tls.clientCA, valueName: "file", reloads: true, defaultHelp: "none",
      "Check client certificates against the CAs in FILE (PEM); a bare name as for tls-certificate."),
    Setting(
      "tls-verify-clients", \.tls.verifyClients, valueName: "mode", reloads: true,
      defaultHelp: "required with tls-client-ca, else none",
      "Ask TLS clients for a certificate: none, optional or required."),
    Setting(
      "tls-allowed-clients", \.tls.allowedClients, valueName: "names", reloads: true,
      defaultHelp: "any certificate the CA signed",
      "Serve only client certificates whose subject CN or a DNS/URI alternative name is listed (comma-separated); a client without a certificate is refused. Needs tls-verify-clients optional or required."
    ),
    Setting(
      "tls-admin-clients", \.tls.adminClients, valueName: "names", reloads: true, defaultHelp: "none",
      "Client certificate names (as tls-allowed-clients) that may use the stats action over TLS from anywhere."),
    Setting(
      "tls-handshake-timeout", \.tls.handshakeTimeout, valueName: "seconds",
      "Seconds a TLS client has to finish its handshake before the connection is closed."),
    Setting(
      list: "proxy-listen", \.proxyListen, valueName: "addr",
      "Serve the search protocol on ADDR behind a balancer: each connection starts with a PROXY header (v1 or v2) whose client address searchd then uses everywhere. Repeatable."
    ),
    Setting(
      list: "proxy-tls-listen", \.proxyTLSListen, valueName: "addr",
      "As proxy-listen, with TLS after the PROXY header (the balancer passes TLS through). Repeatable."),
    Setting(
      "proxy-trusted-from", \.proxy.trustedFrom, valueName: "blocks",
      "Peers whose PROXY header is believed (address blocks, comma-separated); others are closed."),
    Setting(
      switch: "proxy-allow-local", \.proxy.allowLocal, valueName: "yes|no",
      "Serve a PROXY header without a client (v2 LOCAL, v1 UNKNOWN: a balancer's health check) as the balancer's own connection."
    ),
    Setting(
      list: "admin-listen", \.adminListen, valueName: "addr",
      "Serve HTTP for operators on ADDR: GET /metrics (Prometheus), /healthz, /readyz. Repeatable; off unless given."),
    Setting(
      "admin-max-connections", \.adminMaxConnections, in: 1...1024, valueName: "n",
      "Most connections the admin listeners serve at once, apart from max-connections, so health checks and scrapes are answered while the search listeners are full; the excess get a 503."
    ),
    Setting(
      "drain-delay", \.drainDelay, valueName: "seconds",
      "Seconds after SIGTERM that /readyz answers 503 while searchd still serves, before it stops accepting."),
    Setting(
      "index", \.indexPath, valueName: "file", reloads: true, defaultHelp: "the built-in index",
      "Load the index from FILE: compiled by searchd-index (mapped), or JSON (compiled at start)."),
    Setting(
      "threads", \.threads, in: 1...1024, valueName: "n", defaultHelp: "one per core",
      "Event loops, one thread each, each owning its connections."),
    Setting(
      "io-backend", \.ioBackend, valueName: "backend",
      "What the event loops wait with: io_uring, epoll, or auto (io_uring where the kernel allows it, else epoll, logged once with the reason)."
    ),
    Setting(
      "log-level", \.logLevel, valueName: "level",
      "Log level: trace, debug, info, notice, warning, error or critical."),
    Setting(
      "log-target", \.logTarget, valueName: "target",
      "Where logs go: auto (journald when stderr is connected to it), journal or stderr."),
    Setting(
      "max-connections", \.maxConnections, in: 1..., valueName: "n",
      "Most connections served at once; the excess get a too-many-connections reply."),
    Setting(
      "max-header-bytes", \.wire.maxHeaderBytes, in: 1...65535, valueName: "bytes",
      "Largest JSON header accepted."),
    Setting(
      "max-content-length", \.wire.maxContentLength, in: 0..., valueName: "bytes",
      "Largest content accepted."),
    Setting(
      "suggest-max-visits", \.wire.suggestMaxVisits, in: 100...100_000_000, valueName: "n",
      "Most index trie nodes one suggest request visits; past it the reply holds the best found so far and says \"complete\": false."
    ),
    Setting(
      "idle-timeout", \.connection.idleTimeout, valueName: "seconds",
      "Seconds a connection may sit with no request in progress before it is closed; 0: never."),
    Setting(
      "request-timeout", \.connection.requestTimeout, valueName: "seconds",
      "Seconds from a request's first byte to its last (while searchd waits for them) before it is refused with a timeout."
    ),
    Setting(
      "send-timeout", \.connection.sendTimeout, valueName: "seconds",
      "Seconds a reply may wait for a peer that does not read before the connection closes."),
    Setting(
      "listen-backlog", \.listenBacklog, in: 1..., valueName: "n",
      "Backlog of connections waiting to be accepted; the kernel caps it at somaxconn."),
    Setting(
      "accepts-per-wakeup", \.acceptsPerWakeup, in: 1..., valueName: "n",
      "Connections accepted per listener per loop turn, so a flood cannot starve served clients."),
    Setting(
      "read-size", \.connection.readChunk, in: 512...(16 << 20), valueName: "bytes", "Bytes asked of each read."),
    Setting(
      "output-high-watermark", \.connection.highWatermark, in: 1..., valueName: "bytes",
      "Reply bytes queued for one peer above which searchd stops reading from it."),
    Setting(
      "output-low-watermark", \.connection.lowWatermark, in: 0..., valueName: "bytes",
      "Reply bytes queued below which reading resumes; below output-high-watermark."),
    Setting(
      "requests-per-wakeup", \.connection.requestsPerWakeup, in: 1..., valueName: "n",
      "Requests answered per connection per loop turn before other connections get a turn."),
    Setting(
      "max-in-flight", \.connection.maxInFlight, in: 1..., valueName: "n",
      "Replies queued for one peer and not yet written, above which searchd stops reading from it."),
    Setting(
      "max-output-bytes", \.connection.maxOutputBytes, in: 1..., valueName: "bytes",
      "Reply bytes one connection may have queued; a larger reply is refused with reply-too-large. At least output-high-watermark."
    ),
    Setting(
      switch: "close-after-reply", \.connection.closeAfterReply, valueName: "yes|no",
      "Close each connection once every request received is answered, as the tutorial's server does."),
    Setting(
      "shutdown-grace", \.shutdownGrace, valueName: "seconds",
      "Seconds SIGTERM waits for replies to drain before closing what is left."),
  ]

  /// The settings a reload cannot apply whose value differs between `running` and `read`:
  /// they take a restart, and a reload says so rather than drop them silently.
  public static func restartOnlyChanges(from running: ServerConfig, to read: ServerConfig) -> [String] {
    all.filter { !$0.reloads && $0.texts(running) != $0.texts(read) }.map(\.name)
  }

  /// The setting named `name`, if there is one.
  public static func named(_ name: String) -> Setting? { all.first { $0.name == name } }

  /// The settings given, applied over the defaults in the order of `all`, then the rules
  /// that relate one setting to another. `given`: each name's values, flags already
  /// preferred over the config file by the caller.
  public static func resolve(_ given: [String: [String]]) throws(SettingError) -> ServerConfig {
    let config = try parse(given)
    try checkRelations(config)
    return config
  }

  /// Each value given checked alone (its type and range) and applied over the defaults.
  public static func parse(_ given: [String: [String]]) throws(SettingError) -> ServerConfig {
    var config = ServerConfig()
    for s in all { try s.apply(given[s.name] ?? [], to: &config) }
    return config
  }

  /// The rules between settings: a combination that cannot work, or cannot be enforced.
  static func checkRelations(_ config: ServerConfig) throws(SettingError) {
    let c = config.connection
    guard c.lowWatermark < c.highWatermark else {
      throw SettingError("output-low-watermark must be below output-high-watermark")
    }
    guard c.maxOutputBytes >= c.highWatermark else {
      throw SettingError("max-output-bytes must be at least output-high-watermark")
    }
    try config.tls.check(listening: !config.tlsListen.isEmpty || !config.proxyTLSListen.isEmpty)
  }
}
