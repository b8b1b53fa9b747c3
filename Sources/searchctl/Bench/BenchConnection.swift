import SearchdSystem
import SearchdTLS
import SearchdWire

/// One load-generating connection's state: what it sent, what it awaits, what epoll
/// watches, and its I/O, plain or through a TLS session.
final class BenchConnection {
  var socket: Socket
  var input = InputBuffer()
  var decoder = FrameDecoder(limits: WireLimits(maxHeaderBytes: 65535, maxContentLength: 1 << 26))
  var sendOffset = 0
  var batch: [UInt8] = []
  var expected: [[UInt8]?] = []
  var awaiting = 0
  var sentAt: UInt64 = 0
  /// What epoll watches for this socket, so it is changed only when it must be.
  var watching: EpollEvents = [.writable]
  /// Under --rate: when the next batch is due.
  var due: UInt64 = 0
  var connecting = true
  /// The decoder holds part of a frame: bytes are no longer at a frame boundary.
  var decoding = false
  var cursor: Int
  /// Where each request of `batch` ends, so the unanswered ones can be sent again.
  var requestEnds: [Int] = []
  /// This batch is a resend (of requests whose connection closed before any byte of their
  /// replies came): it is not resent twice.
  var retried = false
  /// Requests to send again, with what they expect, where each ends, and when they first went.
  struct Resend {
    let batch: [UInt8]
    let expected: [[UInt8]?]
    let ends: [Int]
    let sentAt: UInt64
  }
  /// A resend waiting for this (fresh) connection to be up.
  var pendingRetry: Resend?
  /// With --tls: the session, set once the TCP connection is up.
  var tls: TLSSession?
  var handshaking: Bool { tls.map { !$0.isHandshakeDone } ?? false }

  init(socket: Socket, cursor: Int) {
    self.socket = socket
    self.cursor = cursor
  }

  /// What an I/O step did.
  enum Step {
    case moved(Int)
    /// Try again when the socket is ready for these.
    case blocked(EpollEvents)
    case failed
  }

  /// Moves the TLS handshake on; `.moved` once it is done.
  func handshake() -> Step {
    guard let tls else { return .moved(0) }
    return step(tls.handshake())
  }

  func write(_ bytes: UnsafeRawBufferPointer) -> Step {
    if let tls { return step(tls.write(bytes)) }
    switch try? socket.write(bytes) {
    case .processed(let n)?: return .moved(n)
    case .wouldBlock?: return .blocked([.readable, .writable])
    case nil: return .failed
    }
  }

  /// Reads what is there into `input` (with TLS, every record already decrypted too);
  /// true at end of stream or on a failure.
  func readAvailable() -> Bool {
    var eof = false
    repeat {
      do {
        _ = try input.write(upTo: 65536) { (raw) throws(SystemError) -> Int in
          guard let tls else {
            switch try socket.read(into: raw) {
            case .processed(let n):
              eof = n == 0
              return n
            case .wouldBlock: return 0
            }
          }
          switch tls.read(into: raw) {
          case .processed(let n): return n
          case .wantRead, .wantWrite: return 0
          case .closed, .failed:
            eof = true
            return 0
          }
        }
      } catch {
        eof = true
      }
    } while !eof && tls?.hasBufferedInput == true
    return eof
  }

  private func step(_ outcome: TLSSession.Outcome) -> Step {
    switch outcome {
    case .processed(let n): return .moved(n)
    case .wantRead: return .blocked([.readable])
    case .wantWrite: return .blocked([.readable, .writable])
    case .closed, .failed: return .failed
    }
  }
}
