import SearchdLoop
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

/// Where a first stage's outcome goes: the loop's worker, which makes the connection that
/// serves the rest, or counts and logs the failure.
protocol ProxyPreambleDelegate: AnyObject {
  /// The header was whole. `after` holds the bytes read past it (the client's first
  /// request, on a plain listener); `moreWaiting` says bytes past it are still in the socket.
  func proxyHeaderRead(
    _ stage: ProxyPreamble, client: SocketAddress?, after: UnsafeRawBufferPointer, moreWaiting: Bool)
  /// Closed before the header was whole; `failure` is nil when it was not the peer's fault.
  func proxyHeaderFailed(_ stage: ProxyPreamble, _ failure: ProxyFailure?, detail: String)
}

/// The first stage of a connection on a PROXY listener, the I/O around `ProxyStage`: reads
/// the header, then hands the socket on with the client's address as its peer. On a plain
/// listener one read takes the header and what follows it (the client's first request,
/// handed on with it, as nginx reads its header into the connection's buffer); before TLS
/// the socket is peeked and only the header taken, so the TLS records stay for OpenSSL.
final class ProxyPreamble: EventHandler, ServedConnection {
  let socket: Socket
  let descriptor: Int32
  /// The proxy's own address.
  let peer: SocketAddress?
  let served: ServiceListener
  private let stage: ProxyStage
  /// Whether the bytes after the header may be read here (a plain listener) or must stay
  /// in the socket (TLS).
  private let readsPast: Bool
  /// The header so far, when it comes in pieces (rare: a balancer sends it in one).
  private var received: [UInt8] = []
  /// The loop's factory, which its worker owns for as long as any connection lives.
  private unowned let delegate: ProxyPreambleDelegate

  /// Room for a first request read with the header; more stays in the socket.
  private static let readAhead = 4096

  init(
    socket: Socket, peer: SocketAddress?, served: ServiceListener, deadline: UInt64, allowLocal: Bool,
    delegate: ProxyPreambleDelegate
  ) {
    self.socket = socket
    descriptor = socket.descriptor
    self.peer = peer
    self.served = served
    stage = ProxyStage(allowLocal: allowLocal, deadline: deadline)
    readsPast = served.service != .appTLS
    self.delegate = delegate
  }

  func handleEvents(_ ready: Interest) {
    let room = ProxyHeader.maxLength + (readsPast ? Self.readAhead : 0)
    // On the stack: the header so far, then what this read sees after it.
    withUnsafeTemporaryAllocation(byteCount: room, alignment: 16) { buffer in
      received.withUnsafeBytes { buffer.copyMemory(from: $0) }
      let free = UnsafeMutableRawBufferPointer(rebasing: buffer[received.count...])
      let outcome = Result { () throws(SystemError) in
        try readsPast ? socket.read(into: free) : socket.peek(into: free)
      }
      guard case .success(let result) = outcome else {
        return fail(.truncated, "the connection failed before the PROXY header was whole")
      }
      guard case .processed(let n) = result else { return }
      let seen = UnsafeRawBufferPointer(rebasing: buffer[..<(received.count + n)])
      let step = n == 0 ? stage.closed() : stage.step(seen, proxy: peer)
      switch step {
      case .fail(let failure, let why): fail(failure, why)
      case .wait:
        // Every byte seen is the header's: take them, so the socket is not readable again
        // until more come (epoll is level-triggered).
        guard readsPast || consume(n) else { return fail(.truncated, "the header could not be read") }
        received = Array(seen)
      case .header(let client, let length):
        guard readsPast || consume(length - received.count) else {
          return fail(.truncated, "the header could not be read")
        }
        let after = UnsafeRawBufferPointer(rebasing: seen[length...])
        delegate.proxyHeaderRead(
          self, client: client, after: readsPast ? after : .init(start: nil, count: 0),
          moreWaiting: !readsPast && !after.isEmpty)
      }
    }
  }

  private func fail(_ failure: ProxyFailure?, _ detail: String) {
    delegate.proxyHeaderFailed(self, failure, detail: detail)
  }

  /// Reads exactly `count` bytes the peek saw.
  private func consume(_ count: Int) -> Bool {
    guard count > 0 else { return true }
    return withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { sink in
      guard case .processed(let n)? = try? socket.read(into: sink) else { return false }
      return n == count
    }
  }

  func sweep(now: UInt64) {
    if case .fail(let failure, let why)? = stage.checkDeadline(now: now) { fail(failure, why) }
  }

  /// Shutting down: closed without counting, it was not the peer's fault.
  func drain() { fail(nil, "shutting down") }
  func forceClose() { fail(nil, "shutting down") }
}
