/// Why a TLS connection was closed before it was served: counted per reason in the stats
/// and logged (at most once a second per reason and loop) with SEARCHD_TLS_ERROR.
public enum TLSFailure: String, CaseIterable, Sendable {
  /// The first byte was not a TLS handshake record: the tutorial's client, say.
  case plaintext
  /// The handshake did not finish within tls-handshake-timeout.
  case timeout
  /// A client certificate was required and none came.
  case noCertificate = "no-certificate"
  /// The client's certificate did not check out (unknown CA, expired…).
  case badCertificate = "bad-certificate"
  /// A good certificate whose names are not in tls-allowed-clients.
  case notAllowed = "not-allowed"
  /// Anything else the handshake refused (versions, ciphers, a malformed message).
  case handshake
  /// The peer closed or reset the connection during the handshake.
  case closed
}
