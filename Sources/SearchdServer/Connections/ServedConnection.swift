/// What a loop needs of any connection it serves, whatever its protocol.
protocol ServedConnection: AnyObject {
  /// The descriptor it is registered under.
  var descriptor: Int32 { get }
  /// Called by the loop's sweep timer: enforce deadlines, give back idle memory.
  func sweep(now: UInt64)
  /// Stop taking requests, answer what has been received, then close.
  func drain()
  /// Close at once (the shutdown deadline passed).
  func forceClose()
}

/// A connection that serves a protocol (search, echo, admin), as opposed to a first stage
/// that only reads a PROXY header before handing the socket on.
protocol ProtocolConnection: ServedConnection {
  /// Serves bytes that arrived before this connection existed: those a PROXY header's
  /// read brought after the header. Every protocol takes them, so none is lost.
  func handleReceived(_ bytes: UnsafeRawBufferPointer)
}
