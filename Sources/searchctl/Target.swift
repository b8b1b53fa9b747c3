import SearchdSystem
import SearchdTLS

/// Where a command connects, and whether through TLS.
struct Target {
  let endpoint: Endpoint
  let tls: ClientTLS?
}

/// A client's TLS: the context (CAs, client certificate), the name the server's
/// certificate must carry, and the session to resume next (with --tls-resume).
final class ClientTLS {
  let context: TLSContext
  let serverName: String?
  var ticket: TLSSessionTicket?

  init(context: TLSContext, serverName: String?) {
    self.context = context
    self.serverName = serverName
  }
}
