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
