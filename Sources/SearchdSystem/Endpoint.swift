import CShims
import Glibc

/// What a user writes to name a place to listen or connect: `HOST:PORT`,
/// `[IPv6]:PORT` or `unix:/path`. Resolving a host may give several addresses.
public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
  case host(String, port: UInt16)
  case unix(path: String)

  public enum ParseError: Error, CustomStringConvertible, Equatable {
    case missingPort(String)
    case badPort(String)
    case emptyPath

    public var description: String {
      switch self {
      case .missingPort(let s): return "\"\(s)\" has no port: write HOST:PORT, [IPv6]:PORT or unix:/path"
      case .badPort(let s): return "\"\(s)\" has a bad port: it must be a number from 0 to 65535"
      case .emptyPath: return "unix: needs a path, as in unix:/run/searchd/searchd.sock"
      }
    }
  }

  public init(parsing text: String) throws(ParseError) {
    if text.hasPrefix("unix:") {
      let path = String(text.dropFirst(5))
      guard !path.isEmpty else { throw .emptyPath }
      self = .unix(path: path)
      return
    }
    let host: Substring
    let portText: Substring
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
      host = text[text.index(after: text.startIndex)..<close]
      let rest = text[text.index(after: close)...]
      guard rest.hasPrefix(":") else { throw .missingPort(text) }
      portText = rest.dropFirst()
    } else {
      guard let colon = text.lastIndex(of: ":") else { throw .missingPort(text) }
      host = text[..<colon]
      portText = text[text.index(after: colon)...]
    }
    // Port 0 is allowed: listening on it takes an ephemeral port (the ready log line names it).
    guard let port = UInt16(portText) else { throw .badPort(text) }
    self = .host(String(host), port: port)
  }

  public var description: String {
    switch self {
    case .host(let h, let port): return h.contains(":") ? "[\(h)]:\(port)" : "\(h):\(port)"
    case .unix(let path): return "unix:\(path)"
    }
  }
}

/// getaddrinfo's failure: its own error space (EAI_*), not errno.
public struct ResolveError: Error, CustomStringConvertible, Sendable {
  public let host: String
  public let message: String
  public var description: String { "cannot resolve \"\(host)\": \(message)" }
}

extension Endpoint {
  /// Every address the endpoint stands for, in getaddrinfo's order, without duplicates.
  public func resolve(passive: Bool = false) throws(ResolveError) -> [SocketAddress] {
    switch self {
    case .unix(let path):
      return [.unix(path: path)]
    case .host(let host, let port):
      var hints = addrinfo()
      hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
      hints.ai_flags = passive ? AI_PASSIVE : 0
      var list: UnsafeMutablePointer<addrinfo>?
      let rc = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &list)
      guard rc == 0 else {
        throw ResolveError(host: host, message: String(cString: gai_strerror(rc)))
      }
      defer { freeaddrinfo(list) }
      var out: [SocketAddress] = []
      var cur = list
      while let ai = cur {
        if let addr = ai.pointee.ai_addr, let a = SocketAddress(addr, length: ai.pointee.ai_addrlen),
          !out.contains(a)
        {
          out.append(a)
        }
        cur = ai.pointee.ai_next
      }
      return out
    }
  }
}
