import SearchdSystem
import SearchdTLS

/// A client's TLS: the CAs that vouch for the server, the client certificate if any, the
/// name the server's certificate must carry, and the last session (offered again on the
/// next connection, so a pool's reconnects resume rather than redo the handshake).
public final class ClientTLS: Sendable {
  public let context: TLSContext
  public let serverName: String?
  private let lastSession = Locked<TLSSessionTicket?>(nil)

  public init(context: TLSContext, serverName: String?) {
    self.context = context
    self.serverName = serverName
  }

  /// CAs from `caFile` (PEM; nil: the system's), the client certificate and its key (nil:
  /// in the certificate's file).
  public convenience init(
    caFile: String? = nil, certificate: String? = nil, key: String? = nil, serverName: String?
  ) throws(TLSError) {
    self.init(
      context: try TLSContext.client(caFile: caFile, certificate: certificate, key: key), serverName: serverName)
  }

  var ticket: TLSSessionTicket? {
    get { lastSession.withLock { $0 } }
    set { lastSession.withLock { $0 = newValue } }
  }
}
