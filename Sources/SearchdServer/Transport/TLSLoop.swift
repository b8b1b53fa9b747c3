import Logging
import SearchdConfig
import SearchdTLS

/// What a loop's TLS connections share: the current context (a reload swaps it), the
/// admin names, the handshake deadline, the failure counters and their rate-limited log,
/// and one scratch buffer a gathered write is copied into, so a burst of replies goes out
/// as one record. Confined to its loop's thread.
final class TLSLoop {
  private(set) var context: TLSContext
  private(set) var adminClients: [String]
  /// tls-allowed-clients: a finished handshake is held to it (see `PeerIdentity.admits`).
  private(set) var allowedClients: [String]
  let handshakeTimeout: UInt64
  private let stats: ServerStats
  private let logger: Logger
  private var failureLog = RateLimitedLog<TLSFailure>()
  /// The largest TLS record's payload.
  let gather = UnsafeMutableRawBufferPointer.allocate(byteCount: 16_384, alignment: 16)

  init(context: TLSContext, settings: TLSSettings, stats: ServerStats, logger: Logger) {
    self.context = context
    adminClients = settings.adminClients.names
    allowedClients = settings.allowedClients.names
    handshakeTimeout =
      UInt64(settings.handshakeTimeout.components.seconds) * 1_000_000_000
      + UInt64(settings.handshakeTimeout.components.attoseconds / 1_000_000_000)
    self.stats = stats
    self.logger = logger
  }

  deinit { gather.deallocate() }

  /// A reload's certificate, key and client rules, for handshakes from now on.
  func replace(_ context: TLSContext, settings: TLSSettings) {
    self.context = context
    adminClients = settings.adminClients.names
    allowedClients = settings.allowedClients.names
  }

  func completed(resumed: Bool, connection: UInt64, client: PeerIdentity?) {
    stats.tlsHandshakes.wrappingIncrement(ordering: .relaxed)
    if resumed { stats.tlsResumed.wrappingIncrement(ordering: .relaxed) }
    if logger.logLevel <= .debug {
      logger.debug(
        "tls handshake done",
        metadata: [
          "searchd_connection": "\(connection)", "searchd_client": "\(client?.display ?? "")",
          "searchd_tls_resumed": "\(resumed)",
        ])
    }
  }

  func failed(_ failure: TLSFailure, detail: String, connection: UInt64, peer: String, now: UInt64) {
    stats.tlsFailures[failure.index].wrappingIncrement(ordering: .relaxed)
    failureLog.report(failure, now: now) { suppressed in
      logger.notice(
        "tls handshake failed: \(detail)",
        metadata: [
          "searchd_tls_error": "\(failure.rawValue)", "searchd_connection": "\(connection)", "searchd_peer": "\(peer)",
          "searchd_suppressed": "\(suppressed)",
        ])
    }
  }
}

extension TLSFailure {
  /// Its slot in `ServerStats.tlsFailures`.
  var index: Int { Self.allCases.firstIndex(of: self)! }
}
