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

/// The first stage of a connection on a PROXY listener: reads the header and nothing
/// past it (so the client's bytes, TLS records included, stay in the socket for whoever
/// serves them), then hands the socket on with the client's address as its peer.
final class ProxyPreamble: EventHandler, ServedConnection {
  private let socket: Socket
  let descriptor: Int32
  private let peer: SocketAddress?
  private let deadline: UInt64
  private let allowLocal: Bool
  private var received: [UInt8] = []
  /// With whether bytes past the header are already waiting.
  private let done: (ProxyPreamble, Socket, SocketAddress?, Bool) -> Void
  private let failed: (ProxyPreamble, Socket, ProxyFailure?, String) -> Void

  init(
    socket: Socket, peer: SocketAddress?, deadline: UInt64, allowLocal: Bool,
    done: @escaping (ProxyPreamble, Socket, SocketAddress?, Bool) -> Void,
    failed: @escaping (ProxyPreamble, Socket, ProxyFailure?, String) -> Void
  ) {
    self.socket = socket
    descriptor = socket.descriptor
    self.peer = peer
    self.deadline = deadline
    self.allowLocal = allowLocal
    self.done = done
    self.failed = failed
  }

  func handleEvents(_ ready: Interest) {
    // On the stack: the header so far, then what the peek sees after it.
    withUnsafeTemporaryAllocation(byteCount: ProxyHeader.maxLength, alignment: 16) { buffer in
      received.withUnsafeBytes { buffer.copyMemory(from: $0) }
      let room = UnsafeMutableRawBufferPointer(rebasing: buffer[received.count...])
      let peeked = Result { () throws(SystemError) in try socket.peek(into: room) }
      guard case .success(let result) = peeked else {
        return failed(self, socket, .truncated, "the connection failed before the PROXY header was whole")
      }
      guard case .processed(let n) = result else { return }
      if n == 0 { return failed(self, socket, .truncated, "closed before the PROXY header was whole") }
      let seen = UnsafeRawBufferPointer(rebasing: buffer[..<(received.count + n)])
      switch ProxyHeader.decode(seen) {
      case .invalid(let why):
        failed(self, socket, .malformed, why)
      case .needMore:
        // Every byte seen is the header's: take them, so the socket is not readable again
        // until more come (epoll is level-triggered).
        guard consume(n) else { return failed(self, socket, .truncated, "the header could not be read") }
        received = Array(seen)
      case .header(let header, let length):
        guard consume(length - received.count) else {
          return failed(self, socket, .truncated, "the header could not be read")
        }
        guard header.command == .proxy || allowLocal else {
          return failed(self, socket, .local, "a PROXY header without a client (LOCAL) where none is allowed")
        }
        done(self, socket, header.source.map(Self.address) ?? peer, seen.count > length)
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

  private static func address(_ a: ProxyHeader.Address) -> SocketAddress {
    switch a {
    case .ipv4(let host, let port): return .ipv4(host: host, port: port)
    case .ipv6(let host, let port): return .ipv6(host: host, port: port, scope: 0)
    }
  }

  func sweep(now: UInt64) {
    if now >= deadline { failed(self, socket, .timeout, "no whole PROXY header within request-timeout") }
  }

  /// Shutting down: closed without counting, it was not the peer's fault.
  func drain() { failed(self, socket, nil, "shutting down") }
  func forceClose() { failed(self, socket, nil, "shutting down") }
}
