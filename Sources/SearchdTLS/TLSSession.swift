import COpenSSL

/// One TLS connection over a non-blocking socket the caller owns (OpenSSL reads and writes
/// the descriptor but never closes it). Each call does what it can now and says what it
/// waits for; nothing here blocks or touches the event loop.
public final class TLSSession {
  private let ssl: OpaquePointer
  /// The context this session came from: it keeps it alive for as long as it lives.
  public let context: TLSContext

  /// What an operation did.
  public enum Outcome: Equatable {
    /// Done: bytes moved (0 for a finished handshake).
    case processed(Int)
    /// Call again once the socket is readable, or writable.
    case wantRead, wantWrite
    /// The peer ended the session (close_notify, or the connection closed under it).
    case closed
    case failed(TLSError)

    public static func == (a: Outcome, b: Outcome) -> Bool {
      switch (a, b) {
      case (.processed(let x), .processed(let y)): return x == y
      case (.wantRead, .wantRead), (.wantWrite, .wantWrite), (.closed, .closed): return true
      case (.failed(let x), .failed(let y)): return x.description == y.description
      default: return false
      }
    }
  }

  /// A server session (`accepting`) or a client one, asking for `serverName` (SNI, and the
  /// name the server's certificate must carry).
  public init(context: TLSContext, descriptor: Int32, accepting: Bool, serverName: String? = nil) throws(TLSError) {
    guard let ssl = SSL_new(context.raw) else { throw .drain("SSL_new") }
    self.ssl = ssl
    self.context = context
    guard SSL_set_fd(ssl, descriptor) == 1 else { throw .drain("SSL_set_fd") }
    if accepting {
      SSL_set_accept_state(ssl)
    } else {
      SSL_set_connect_state(ssl)
      if let serverName {
        // An address is checked against the certificate's IP names and is never sent as
        // SNI, which carries host names only.
        if X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) != 1 {
          ERR_clear_error()
          _ = searchd_SSL_set_tlsext_host_name(ssl, serverName)
          _ = SSL_set1_host(ssl, serverName)
        }
      }
    }
  }

  deinit { SSL_free(ssl) }

  public var isHandshakeDone: Bool { SSL_is_init_finished(ssl) == 1 }

  public func handshake() -> Outcome {
    let result = SSL_do_handshake(ssl)
    return result == 1 ? .processed(0) : outcome(result, "handshake")
  }

  /// Decrypted bytes into `buffer`; `.processed(n)` with n > 0.
  public func read(into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
    outcome(SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count)), "read")
  }

  /// Encrypts and sends from `buffer`: a record at a time, so `.processed(n)` may be short.
  public func write(_ buffer: UnsafeRawBufferPointer) -> Outcome {
    outcome(SSL_write(ssl, buffer.baseAddress, Int32(clamping: buffer.count)), "write")
  }

  /// Bytes OpenSSL holds decrypted, or a record it has read but not yet decrypted: the
  /// socket may say nothing more, so whoever reads must ask again without waiting.
  public var hasBufferedInput: Bool { SSL_pending(ssl) > 0 || SSL_has_pending(ssl) == 1 }

  /// The client certificate's names, once the handshake is done (nil: none was sent).
  public var peerIdentity: PeerIdentity? {
    guard let certificate = SSL_get0_peer_certificate(ssl) else { return nil }
    return PeerIdentity(certificate: certificate)
  }

  /// Whether the handshake resumed an earlier session (a ticket) instead of a full one.
  public var isResumed: Bool { SSL_session_reused(ssl) == 1 }

  /// The session to offer next time (a client's resumption); nil before the server sent one.
  public var resumableSession: TLSSessionTicket? {
    guard let session = SSL_get1_session(ssl) else { return nil }
    return TLSSessionTicket(raw: session)
  }

  /// Offers `ticket` in the next handshake (before it starts).
  public func resume(_ ticket: TLSSessionTicket) { _ = SSL_set_session(ssl, ticket.raw) }

  /// Frees the record buffers if they hold nothing (an idle connection's): OpenSSL
  /// allocates them again when the next record comes.
  public func releaseBuffers() { _ = SSL_free_buffers(ssl) }

  /// Sends close_notify, once, without waiting for the peer's.
  public func shutdown() {
    _ = SSL_shutdown(ssl)
    ERR_clear_error()
  }

  public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

  private func outcome(_ result: Int32, _ operation: String) -> Outcome {
    if result > 0 { return .processed(Int(result)) }
    switch SSL_get_error(ssl, result) {
    case SSL_ERROR_WANT_READ: return .wantRead
    case SSL_ERROR_WANT_WRITE: return .wantWrite
    case SSL_ERROR_ZERO_RETURN: return .closed
    case SSL_ERROR_SYSCALL:
      // The connection ended or failed under OpenSSL (reset, or closed without close_notify).
      ERR_clear_error()
      return .closed
    default:
      return .failed(.drain(operation, verifyResult: Int(SSL_get_verify_result(ssl))))
    }
  }
}

/// A session a client may resume (SSL_SESSION), kept between connections.
public final class TLSSessionTicket: @unchecked Sendable {
  let raw: OpaquePointer
  init(raw: OpaquePointer) { self.raw = raw }
  deinit { SSL_SESSION_free(raw) }
}
