import SearchdSystem
import SearchdWire

/// Why a connection on a PROXY listener was closed before it was served.
public enum ProxyFailure: String, CaseIterable, Sendable {
  /// The peer is not in proxy-trusted-from.
  case untrusted
  /// Not a PROXY header, or a malformed one (a forged header after data is one of these).
  case malformed
  /// The peer closed before the header was whole.
  case truncated
  /// The header was not whole within request-timeout.
  case timeout
  /// A header without a client (v2 LOCAL, v1 UNKNOWN) where proxy-allow-local is no.
  case local

  var index: Int { Self.allCases.firstIndex(of: self)! }
}

/// The first stage of a connection on a PROXY listener: the reads around `ProxyStage`, run
/// by the connection's driver until the header is whole. On a plain listener one read takes
/// the header and what follows it (the client's first request, put in the connection's
/// input, as nginx reads its header into the connection's buffer); before TLS the socket is
/// peeked and only the header taken, so the TLS records stay for OpenSSL.
struct ProxyPreamble {
  enum Outcome {
    /// The header is not whole yet.
    case wait
    /// Closed before the header was whole; no failure when it was not the peer's fault.
    case failed(ProxyFailure?, String)
    /// The header was whole: `client` is the peer from now on. `moreWaiting`: bytes past
    /// the header are still in the socket (TLS).
    case header(client: SocketAddress?, moreWaiting: Bool)
  }

  /// The socket under the connection's transport, borrowed: the transport owns it.
  let socket: Socket
  /// The listener it came in on, for the log line once the header names the client.
  let served: ServiceListener
  private let stage: ProxyStage
  /// Whether the bytes after the header may be read here (a plain listener) or must stay
  /// in the socket (TLS).
  private let readsPast: Bool
  /// The header so far, when it comes in pieces (rare: a balancer sends it in one).
  private var received: [UInt8] = []

  /// Room for a first request read with the header; more stays in the socket.
  private static let readAhead = 4096

  init(socket: Socket, served: ServiceListener, deadline: UInt64, allowLocal: Bool) {
    self.socket = socket
    self.served = served
    stage = ProxyStage(allowLocal: allowLocal, deadline: deadline)
    readsPast = served.service != .appTLS
  }

  /// One read (or peek) of the header; bytes read past it are appended to `input`.
  mutating func read(proxy: SocketAddress?, into input: inout InputBuffer) -> Outcome {
    let room = ProxyHeader.maxLength + (readsPast ? Self.readAhead : 0)
    // On the stack: the header so far, then what this read sees after it.
    return withUnsafeTemporaryAllocation(byteCount: room, alignment: 16) { buffer in
      received.withUnsafeBytes { buffer.copyMemory(from: $0) }
      let free = UnsafeMutableRawBufferPointer(rebasing: buffer[received.count...])
      let outcome = Result { () throws(SystemError) in
        try readsPast ? socket.read(into: free) : socket.peek(into: free)
      }
      guard case .success(let result) = outcome else {
        return .failed(.truncated, "the connection failed before the PROXY header was whole")
      }
      guard case .processed(let n) = result else { return .wait }
      let seen = UnsafeRawBufferPointer(rebasing: buffer[..<(received.count + n)])
      switch n == 0 ? stage.closed() : stage.step(seen, proxy: proxy) {
      case .fail(let failure, let why): return .failed(failure, why)
      case .wait:
        // Every byte seen is the header's: take them, so the socket is not readable again
        // until more come (the loop is level-triggered).
        guard readsPast || consume(n) else { return .failed(.truncated, "the header could not be read") }
        received = Array(seen)
        return .wait
      case .header(let client, let length):
        guard readsPast || consume(length - received.count) else {
          return .failed(.truncated, "the header could not be read")
        }
        let after = UnsafeRawBufferPointer(rebasing: seen[length...])
        if readsPast { input.append(after) }
        return .header(client: client, moreWaiting: !readsPast && !after.isEmpty)
      }
    }
  }

  /// Reads exactly `count` bytes the peek saw.
  private func consume(_ count: Int) -> Bool {
    guard count > 0 else { return true }
    return withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { sink in
      guard case .processed(let n)? = try? socket.read(into: sink) else { return false }
      return n == count
    }
  }

  /// A failure if the header's deadline has passed.
  func checkDeadline(now: UInt64) -> Outcome? {
    guard case .fail(let failure, let why)? = stage.checkDeadline(now: now) else { return nil }
    return .failed(failure, why)
  }
}
