import SearchdSystem
import SearchdWire

/// The PROXY first stage as a state machine: given the bytes seen so far at the start of a
/// connection, it says whether to wait, which bytes to take off the socket, and when the
/// header is whole, the client's address and where the bytes after it start. `ProxyPreamble`
/// does the reads (and, before TLS, the peeks).
struct ProxyStage {
  /// What to do after a read.
  enum Step: Equatable {
    /// The header is not whole: keep the bytes seen (taken off the socket first when they
    /// were only peeked) and wait for more.
    case wait
    /// The header is whole, `length` bytes: serve `client` (nil: the proxy's own
    /// connection), the bytes after the header being the client's.
    case header(client: SocketAddress?, length: Int)
    case fail(ProxyFailure, String)
  }

  let allowLocal: Bool
  let deadline: UInt64

  /// What `seen` (every byte of the connection so far) holds.
  func step(_ seen: UnsafeRawBufferPointer, proxy: SocketAddress?) -> Step {
    switch ProxyHeader.decode(seen) {
    case .invalid(let why): return .fail(.malformed, why)
    case .needMore: return .wait
    case .header(let header, let length):
      guard header.command == .proxy || allowLocal else {
        return .fail(.local, "a PROXY header without a client (LOCAL) where none is allowed")
      }
      return .header(client: header.source.map(Self.address) ?? proxy, length: length)
    }
  }

  /// The end of the stream before the header was whole.
  func closed() -> Step { .fail(.truncated, "closed before the PROXY header was whole") }

  /// A failure if the deadline has passed.
  func checkDeadline(now: UInt64) -> Step? {
    now >= deadline ? .fail(.timeout, "no whole PROXY header within request-timeout") : nil
  }

  private static func address(_ a: ProxyHeader.Address) -> SocketAddress {
    switch a {
    case .ipv4(let host, let port): return .ipv4(host: host, port: port)
    case .ipv6(let host, let port): return .ipv6(host: host, port: port, scope: 0)
    }
  }
}
