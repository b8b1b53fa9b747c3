import SearchdSystem
import SearchdTLS
import SearchdWire

/// Why a request got no usable reply, each with the exit status scripts rely on.
enum ClientError: Error, CustomStringConvertible {
  case connect(target: String, Errno)
  case resolve(ResolveError)
  case timedOut(target: String, phase: String)
  case closedBeforeReply(target: String)
  case truncatedReply(target: String)
  case io(target: String, SystemError)
  case badReply(target: String, WireError)
  case tls(target: String, TLSError)

  var description: String {
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
    case .badReply(let t, let e): return "\(t) sent a reply that is not valid protocol: \(e.detail)"
    case .tls(let t, let e): return "TLS with \(t) failed: \(e)\(Self.hint(e))"
    }
  }
}

extension ClientError {
  /// What to check, for the TLS failures a user can fix with an option.
  static func hint(_ e: TLSError) -> String {
    let text = e.description
    switch e.verifyResult {
    case 18, 19, 20, 21: return " (is --cacert right?)"  // self-signed, unknown issuer
    case 62, 64: return " (is --servername right?)"  // hostname or IP mismatch
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

/// Exit statuses: documented in `searchctl --help`, relied on by scripts.
enum ExitStatus: Int32 {
  case found = 0
  case noMatch = 1
  case unavailable = 2
  case errorReply = 3
  case usage = 64
}
