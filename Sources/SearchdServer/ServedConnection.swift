import SearchdSystem
import SearchdWire

typealias SearchdWireInput = InputBuffer

/// What a loop needs of any connection it serves, whatever its protocol.
protocol ServedConnection: AnyObject {
  var socket: Socket { get }
  /// Called by the loop's sweep timer: enforce deadlines, give back idle memory.
  func sweep(now: UInt64)
  /// Stop taking requests, answer what has been received, then close.
  func drain()
  /// Close at once (the shutdown deadline passed).
  func forceClose()
}

/// Reads once into `buffer`: the bytes read, 0 at end of stream, nil if it would block.
func readOnce(_ socket: Socket, into buffer: inout SearchdWireInput, upTo count: Int) throws(SystemError) -> Int? {
  var blocked = false
  let n = try buffer.write(upTo: count) { (raw) throws(SystemError) -> Int in
    switch try socket.read(into: raw) {
    case .processed(let n): return n
    case .wouldBlock:
      blocked = true
      return 0
    }
  }
  return blocked ? nil : n
}
