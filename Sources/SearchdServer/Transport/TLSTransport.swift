import Glibc
import SearchdLoop
import SearchdSystem
import SearchdTLS

/// The application protocol over TLS: a socket and an OpenSSL session over it. The
/// handshake runs inside the first reads; a failure is counted and logged here and
/// surfaces to the connection as EPROTO, which closes it like any failed read.
final class TLSTransport: Transport {
  private let socket: Socket
  private let session: TLSSession
  /// Held strongly: the loop's TLS share holds no connection, so no cycle.
  private let tls: TLSLoop
  private let id: UInt64
  private var peer: SocketAddress?
  private var deadline: UInt64
  private var established = false
  private var checkedFirstByte = false
  /// The handshake failed: what the peer sent after it is read and dropped before the
  /// close, so the close is a FIN the peer can read the alert before, not a reset.
  private var failed = false
  /// What the last operation that could not finish waits for, when it is not what the
  /// connection asked: a read that must write (a handshake flight), or the reverse.
  private var blockedOn: Interest?
  /// The last read filled its buffer with more records still inside OpenSSL.
  private var decryptedAhead = false
  private(set) var identity: PeerIdentity?
  private(set) var grantsAdmin = false

  init(socket: Socket, tls: TLSLoop, id: UInt64, peer: SocketAddress?, now: UInt64) throws(TLSError) {
    session = try TLSSession(context: tls.context, descriptor: socket.descriptor, accepting: true)
    self.socket = socket
    self.tls = tls
    self.id = id
    self.peer = peer
    deadline = now + tls.handshakeTimeout
  }

  var descriptor: Int32 { socket.descriptor }
  var isOpen: Bool { socket.isOpen }
  var client: String? { identity?.display }

  /// Decrypted bytes into `buffer`: every record OpenSSL has already read, up to its size.
  /// What is left past a full buffer is said by `interest(for:)`, since the socket will not.
  func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
    if !established { guard try handshake() else { return .wouldBlock } }
    var total = 0
    repeat {
      let outcome = session.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
      if case .processed(let n) = outcome {
        total += n
        blockedOn = nil
        continue
      }
      // What ends the run (a partial record, the end, an error) waits for the next read.
      if total > 0 { break }
      return try finish(outcome, "SSL_read", reading: true)
    } while total < buffer.count && session.hasBufferedInput
    decryptedAhead = total == buffer.count && session.hasBufferedInput
    return .processed(total)
  }

  func write(_ buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
    if !established { guard try handshake() else { return .wouldBlock } }
    return try finish(session.write(buffer), "SSL_write", reading: false)
  }

  /// OpenSSL has no gathered write: the buffers are copied into the loop's scratch
  /// record, up to a record's worth, and sent as one.
  func writev(_ iov: UnsafeMutableBufferPointer<iovec>) throws(SystemError) -> IOResult<Int> {
    var used = 0
    for v in iov where used < tls.gather.count {
      let n = min(v.iov_len, tls.gather.count - used)
      if n > 0 { (tls.gather.baseAddress! + used).copyMemory(from: v.iov_base, byteCount: n) }
      used += n
    }
    return try write(UnsafeRawBufferPointer(rebasing: tls.gather[0..<used]))
  }

  /// Records already read off the socket wait to be decrypted: writable (ready at once)
  /// brings the connection back for them.
  func interest(for wanted: Interest) -> Interest {
    if let blockedOn { return blockedOn }
    return decryptedAhead && wanted.contains(.readable) ? wanted.union(.writable) : wanted
  }

  var hasBufferedInput: Bool { blockedOn == .writable || decryptedAhead }

  func expired(now: UInt64) -> Bool {
    guard !established, now >= deadline else { return false }
    tls.failed(.timeout, detail: "no handshake within the deadline", connection: id, peer: peerText, now: now)
    return true
  }

  func proxyHeaderRead(client: SocketAddress?, now: UInt64) {
    peer = client
    deadline = now + tls.handshakeTimeout
  }

  func releaseIdleBuffers() {
    if established && !session.hasBufferedInput { session.releaseBuffers() }
  }

  func close() {
    guard socket.isOpen else { return }
    if established { session.shutdown() }
    if failed {
      var scratch = (
        0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64
      )
      for _ in 0..<64 {
        let n = withUnsafeMutableBytes(of: &scratch) { raw in try? socket.read(into: raw) }
        guard case .processed(let count)? = n, count > 0 else { break }
      }
    }
    socket.close()
  }

  private var peerText: String { peer.map(String.init(describing:)) ?? "?" }

  private func finish(_ outcome: TLSSession.Outcome, _ call: String, reading: Bool) throws(SystemError)
    -> IOResult<Int>
  {
    switch outcome {
    case .processed(let n):
      blockedOn = nil
      return .processed(n)
    case .wantRead:
      blockedOn = .readable
      return .wouldBlock
    case .wantWrite:
      blockedOn = .writable
      return .wouldBlock
    case .closed:
      // Reading, the end of the stream. Writing, the peer is gone (EPIPE under OpenSSL): a
      // write that took 0 bytes would be tried again at once, forever.
      guard reading else { throw SystemError(.brokenPipe, call: call) }
      return .processed(0)
    case .failed:
      throw SystemError(.protocolError, call: call)
    }
  }

  /// Moves the handshake on; true once it is done.
  private func handshake() throws(SystemError) -> Bool {
    if !checkedFirstByte {
      // A TLS client's first byte opens a handshake record (22); anything else is a
      // plaintext client on the wrong port, told apart before OpenSSL reads a byte.
      var first: UInt8 = 0
      let peeked = try withUnsafeMutableBytes(of: &first) { (raw) throws(SystemError) in try socket.peek(into: raw) }
      switch peeked {
      case .wouldBlock: return false
      case .processed(0): return try fail(.closed, "closed before the handshake")
      case .processed:
        if first != 22 {
          return try fail(.plaintext, "not a TLS handshake (first byte \(first)): plaintext on a TLS port")
        }
        checkedFirstByte = true
      }
    }
    switch session.handshake() {
    case .processed:
      identity = session.peerIdentity
      guard PeerIdentity.admits(identity, allowed: tls.allowedClients) else {
        return try fail(
          identity == nil ? .noCertificate : .notAllowed,
          "\(identity?.display ?? "a client without a certificate") is not in tls-allowed-clients")
      }
      established = true
      blockedOn = nil
      grantsAdmin = identity?.isListed(in: tls.adminClients) ?? false
      tls.completed(resumed: session.isResumed, connection: id, client: identity)
      return true
    case .wantRead:
      blockedOn = .readable
      return false
    case .wantWrite:
      blockedOn = .writable
      return false
    case .closed:
      return try fail(.closed, "the peer closed during the handshake")
    case .failed(let error):
      return try fail(Self.classify(error), error.description)
    }
  }

  private func fail(_ failure: TLSFailure, _ detail: String) throws(SystemError) -> Bool {
    failed = true
    tls.failed(failure, detail: detail, connection: id, peer: peerText, now: MonotonicClock.nanoseconds())
    throw SystemError(.protocolError, call: "TLS handshake (\(failure.rawValue))")
  }

  static func classify(_ error: TLSError) -> TLSFailure {
    if error.isNotAllowed { return .notAllowed }
    if error.verifyResult != 0 { return .badCertificate }
    if error.reasons.contains(where: {
      $0.contains("did not return a certificate") || $0.contains("certificate required")
    }) {
      return .noCertificate
    }
    return .handshake
  }
}
