import SearchdSystem
import SearchdTLS
import SearchdWire

/// Why a call got no usable answer. Every error the library throws is one of these, with
/// the server's own words where it gave some.
public enum ClientError: Error, CustomStringConvertible, Sendable {
  case connect(target: String, Errno)
  case resolve(ResolveError)
  case timedOut(target: String, phase: String)
  /// The server closed before a byte of the reply: the one case a resend is safe in.
  case closedBeforeReply(target: String)
  case truncatedReply(target: String)
  case io(target: String, SystemError)
  /// The peer's bytes are not this protocol's (not searchd, or a reply cut or bent).
  case badReply(target: String, String)
  case tls(target: String, TLSError)
  /// The server answered with an error reply: its code (`bad-request`, `not-permitted`, …,
  /// or `invalid-action` from the tutorial's server) and its `result` line.
  case errorReply(code: String, message: String)

  public var description: String {
    switch self {
    case .connect(let t, let e):
      var hint = ""
      if e == .connectionRefused || e == .noSuchFile {
        hint = " (is searchd running? `systemctl start searchd`)"
      }
      return "cannot connect to \(t): \(e.message)\(hint)"
    case .resolve(let e): return e.description
    case .timedOut(let t, let phase): return "\(t) did not answer in time (\(phase))"
    case .closedBeforeReply(let t): return "\(t) closed the connection before replying"
    case .truncatedReply(let t): return "\(t) closed the connection in the middle of its reply"
    case .io(let t, let e): return "connection to \(t) failed: \(e.call): \(e.errno.message)"
    case .badReply(let t, let detail): return "\(t) sent a reply that is not valid protocol: \(detail)"
    case .tls(let t, let e): return "TLS with \(t) failed: \(e)\(Self.hint(e))"
    case .errorReply(let code, let message): return "\(message) (\(code))"
    }
  }

  /// True for an error reply: the server is there and said no, as against not answering.
  public var isErrorReply: Bool {
    if case .errorReply = self { return true }
    return false
  }
}

extension ClientError {
  /// What to check, for the TLS failures a user can fix with an option.
  static func hint(_ e: TLSError) -> String {
    let text = e.description
    switch e.verifyResult {
    case 18, 19, 20, 21: return " (is --cacert right?)"  // self-signed, unknown issuer
    case 62: return " (is --servername right? the certificate must name the host in its subjectAltName)"
    case 64: return " (the certificate does not name this IP address in its subjectAltName: docs/TLS.md)"
    case 10: return " (the server's certificate has expired)"
    default: break
    }
    if text.contains("certificate required") { return " (the server wants a client certificate: --cert and --key)" }
    if text.contains("alert bad certificate") || text.contains("alert unknown ca")
      || text.contains("alert certificate expired")
    {
      return " (the server did not accept --cert)"
    }
    if text.contains("wrong version number") || text.contains("packet length too long") {
      return " (is this a TLS port? plaintext is on 65432, TLS on 65443)"
    }
    return ""
  }
}
