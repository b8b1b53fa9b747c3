import COpenSSL

/// One OpenSSL configuration (SSL_CTX): certificates, what to ask of peers, versions.
/// Shared by every loop; OpenSSL makes an SSL_CTX safe to create sessions from on any
/// thread, and each session keeps its own reference, so a reload's new context can
/// replace this one while its connections go on.
public final class TLSContext: @unchecked Sendable {
  let raw: OpaquePointer
  /// Which certificate subjects a server serves (nil: any its CA signed); kept alive
  /// here for the verify callback, which finds it through the context's ex-data.
  private let policy: ClientPolicy?

  /// Whether a server asks clients for a certificate.
  public enum ClientVerification: String, Sendable, CaseIterable {
    case none, optional, required
  }

  private init(method: OpaquePointer?, policy: ClientPolicy?) throws(TLSError) {
    guard let ctx = SSL_CTX_new(method) else { throw .drain("SSL_CTX_new") }
    raw = ctx
    self.policy = policy
    // TLS 1.2 at least (1.3 is preferred by OpenSSL's defaults); no renegotiation, no
    // compression. A peer that closes without close_notify has simply closed: the protocol's
    // own framing shows a cut message, so that is not worth an error.
    _ = searchd_SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)
    _ = SSL_CTX_set_options(
      ctx,
      searchd_SSL_OP_NO_RENEGOTIATION() | searchd_SSL_OP_NO_COMPRESSION() | searchd_SSL_OP_IGNORE_UNEXPECTED_EOF())
    // Writes may be partial and retried from a buffer that moved (the output queue
    // regathers them). Rule 5 (docs/PERFORMANCE.md): buffers freed when idle, not per record.
    _ = searchd_SSL_CTX_set_mode(ctx, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
    // Rule 4: a record in one read(2); what is read ahead counts as buffered input.
    searchd_SSL_CTX_set_read_ahead(ctx, 1)
  }

  deinit { SSL_CTX_free(raw) }

  /// A server's context: the certificate chain and key (PEM files), and, with a client CA,
  /// client certificates checked against it and, if `allowedClients` is not empty, their
  /// names against that list (see `PeerIdentity`).
  public static func server(
    certificateChain: String, privateKey: String, clientCA: String?, verify: ClientVerification,
    allowedClients: [String]
  ) throws(TLSError) -> TLSContext {
    let policy = allowedClients.isEmpty ? nil : ClientPolicy(allowed: allowedClients)
    let context = try TLSContext(method: TLS_server_method(), policy: policy)
    let ctx = context.raw
    guard SSL_CTX_use_certificate_chain_file(ctx, certificateChain) == 1 else {
      throw .drain("reading the certificate \(certificateChain)")
    }
    guard SSL_CTX_use_PrivateKey_file(ctx, privateKey, SSL_FILETYPE_PEM) == 1 else {
      throw .drain("reading the key \(privateKey)")
    }
    guard SSL_CTX_check_private_key(ctx) == 1 else { throw .drain("matching the key to the certificate") }
    // Resumption: stateless tickets (one per handshake), and a session id context, without
    // which OpenSSL refuses to resume sessions that carried a client certificate.
    _ = SSL_CTX_set_num_tickets(ctx, 1)
    // TLS 1.3's AES-128-GCM-SHA256 first, chosen by the server, as Go's TLS does: OpenSSL's
    // default leads with AES-256 and SHA-384, and SHA-256 has instructions on current x86
    // (SHA-NI) that SHA-384 lacks; the handshake's transcript, key schedule and every HMAC
    // use it (a server handshake 10% cheaper in process). The other two remain for clients
    // that ask for them alone.
    _ = SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256")
    _ = SSL_CTX_set_options(ctx, searchd_SSL_OP_CIPHER_SERVER_PREFERENCE())
    let name: [UInt8] = Array("searchd".utf8)
    _ = SSL_CTX_set_session_id_context(ctx, name, UInt32(name.count))
    if let clientCA {
      guard SSL_CTX_load_verify_locations(ctx, clientCA, nil) == 1 else {
        throw .drain("reading the client CA \(clientCA)")
      }
      if let names = SSL_load_client_CA_file(clientCA) { SSL_CTX_set_client_CA_list(ctx, names) }
    }
    var mode: Int32
    switch verify {
    case .none: mode = SSL_VERIFY_NONE
    case .optional: mode = SSL_VERIFY_PEER
    case .required: mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
    }
    if let policy {
      // A list admits only the certificates on it, so a client with none is not on it:
      // refused in the handshake (a "certificate required" alert), whatever `verify` says.
      mode |= SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
      _ = SSL_CTX_set_ex_data(ctx, ClientPolicy.index, Unmanaged.passUnretained(policy).toOpaque())
      SSL_CTX_set_verify(ctx, mode, ClientPolicy.verify)
    } else {
      SSL_CTX_set_verify(ctx, mode, nil)
    }
    return context
  }

  /// A client's context: servers checked against `caFile` (or the system's CAs), and a
  /// client certificate if given.
  public static func client(caFile: String?, certificate: String?, key: String?) throws(TLSError) -> TLSContext {
    let context = try TLSContext(method: TLS_client_method(), policy: nil)
    let ctx = context.raw
    if let caFile {
      guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else { throw .drain("reading the CA file \(caFile)") }
    } else {
      _ = SSL_CTX_set_default_verify_paths(ctx)
    }
    if let certificate {
      guard SSL_CTX_use_certificate_chain_file(ctx, certificate) == 1 else {
        throw .drain("reading the certificate \(certificate)")
      }
      guard SSL_CTX_use_PrivateKey_file(ctx, key ?? certificate, SSL_FILETYPE_PEM) == 1 else {
        throw .drain("reading the key \(key ?? certificate)")
      }
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
    return context
  }
}

/// The allowed-clients rule, applied where OpenSSL checks the client's certificate, so a
/// client not on the list gets a "bad certificate" alert rather than a silent close.
final class ClientPolicy {
  let allowed: [String]
  init(allowed: [String]) { self.allowed = allowed }

  static let index = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, nil, nil, nil, nil)

  static let verify: @convention(c) (Int32, OpaquePointer?) -> Int32 = { passed, store in
    // Only the leaf (depth 0), and only once the chain itself checked out.
    guard passed == 1, let store, X509_STORE_CTX_get_error_depth(store) == 0 else { return passed }
    guard let ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
      let ctx = SSL_get_SSL_CTX(OpaquePointer(ssl)), let data = SSL_CTX_get_ex_data(ctx, ClientPolicy.index),
      let certificate = X509_STORE_CTX_get_current_cert(store)
    else { return 0 }
    let policy = Unmanaged<ClientPolicy>.fromOpaque(data).takeUnretainedValue()
    if PeerIdentity.admits(PeerIdentity(certificate: certificate), allowed: policy.allowed) { return 1 }
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED)
    return 0
  }
}
