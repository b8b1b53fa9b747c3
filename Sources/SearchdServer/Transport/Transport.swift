import Glibc
import SearchdLoop
import SearchdSystem
import SearchdWire

/// What a connection reads from and writes to, as Redis's `ConnectionType` puts a plain
/// socket and TLS behind one table of operations. The request path, the state machine and
/// the output queue see only this; a plain socket is the first implementation, TLS wraps
/// one.
protocol Transport: AnyObject {
  /// For registering with the loop; the transport owns it.
  var descriptor: Int32 { get }
  var isOpen: Bool { get }
  /// Reads into `buffer`; `.processed(0)` is the end of the stream.
  func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int>
  func write(_ buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int>
  /// Gathers several buffers into one write.
  func writev(_ iov: UnsafeMutableBufferPointer<iovec>) throws(SystemError) -> IOResult<Int>
  /// The readiness to wait for when the connection wants `wanted`: a TLS record may need
  /// the socket writable to finish a read, or readable to finish a write.
  func interest(for wanted: Interest) -> Interest
  /// Bytes the transport has taken off the socket but not yet handed over (TLS records
  /// decrypted ahead): the connection reads again without waiting for the loop.
  var hasBufferedInput: Bool { get }
  /// Whether a deadline of the transport's own (a TLS handshake's) has passed; it has
  /// counted and logged why, and the connection closes.
  func expired(now: UInt64) -> Bool
  /// Who the peer proved to be (a client certificate's name), for the log.
  var client: String? { get }
  /// The peer proved it may use the admin actions (a listed client certificate).
  var grantsAdmin: Bool { get }
  /// The connection has nothing in flight: memory kept for the next bytes may go.
  func releaseIdleBuffers()
  /// Everything has been said: tell the peer (a FIN) before the close.
  func finishWriting()
  /// A PROXY header named the peer: it is `client` from now on, and the transport's own
  /// first stage (a TLS handshake) starts now.
  func proxyHeaderRead(client: SocketAddress?, now: UInt64)
  func close()
}

extension Transport {
  func interest(for wanted: Interest) -> Interest { wanted }
  var hasBufferedInput: Bool { false }
  func expired(now: UInt64) -> Bool { false }
  var client: String? { nil }
  var grantsAdmin: Bool { false }
  func releaseIdleBuffers() {}
  func finishWriting() {}
  func proxyHeaderRead(client: SocketAddress?, now: UInt64) {}
}

/// The plain transport is the socket itself: no wrapper, no extra call on the hot path.
extension Socket: Transport {
  func finishWriting() { try? shutdown(.write) }
}

/// Reads once into `buffer`: the bytes read, 0 at end of stream, nil if it would block.
func readOnce(_ transport: any Transport, into buffer: inout InputBuffer, upTo count: Int) throws(SystemError)
  -> Int?
{
  var blocked = false
  let n = try buffer.write(upTo: count) { (raw) throws(SystemError) -> Int in
    switch try transport.read(into: raw) {
    case .processed(let n): return n
    case .wouldBlock:
      blocked = true
      return 0
    }
  }
  return blocked ? nil : n
}
