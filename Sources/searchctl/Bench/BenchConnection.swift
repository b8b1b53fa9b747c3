import SearchdSystem
import SearchdWire

/// One load-generating connection's state: what it sent, what it awaits, what epoll watches.
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

  init(socket: Socket, cursor: Int) {
    self.socket = socket
    self.cursor = cursor
  }
}
