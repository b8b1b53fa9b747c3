import Logging
import SearchdLoop
import SearchdSystem

/// One loop's open connections, by descriptor: it registers them with the loop, counts
/// them, and tells its owner when the last one has gone (a drain is then complete).
final class ConnectionRegistry {
  private let loop: EventLoop
  private let stats: ServerStats
  private let loopStats: LoopStats
  private var connections: [Int32: ServedConnection] = [:]
  /// Each connection's listener, whose open count it is in.
  private var listeners: [Int32: ServiceListener] = [:]
  /// Called when the last connection leaves while `notifyWhenEmpty` is set.
  private var whenEmpty: (() -> Void)?

  init(loop: EventLoop, stats: ServerStats, loopStats: LoopStats) {
    self.loop = loop
    self.stats = stats
    self.loopStats = loopStats
  }

  var isEmpty: Bool { connections.isEmpty }
  var all: [ServedConnection] { Array(connections.values) }

  func add(_ conn: ServedConnection & EventHandler, on listener: ServiceListener) throws(SystemError) {
    try loop.register(conn.descriptor, interest: .readable, handler: conn)
    connections[conn.descriptor] = conn
    listeners[conn.descriptor] = listener
    listener.open.wrappingIncrement(ordering: .relaxed)
    if listener.service == .admin { stats.adminConnectionsCurrent.wrappingIncrement(ordering: .relaxed) }
    stats.connectionsCurrent.wrappingIncrement(ordering: .relaxed)
    loopStats.connections.wrappingIncrement(ordering: .relaxed)
    stats.connectionsTotal.wrappingIncrement(ordering: .relaxed)
    loopStats.accepted.wrappingIncrement(ordering: .relaxed)
  }

  /// Closes a connection once: the log line, out of the registry and the loop's watch, then
  /// the descriptor, through the transport that owns it.
  func close(_ conn: ServedConnection, transport: any Transport, id: UInt64, reason: String, logger: Logger) {
    guard transport.isOpen else { return }
    if logger.logLevel <= .debug {
      logger.debug(
        "connection closed",
        metadata: [
          "searchd_connection": "\(id)", "searchd_reason": "\(reason)", "searchd_client": "\(transport.client ?? "")",
        ])
    }
    remove(conn, closing: true)
    transport.close()
  }

  private func remove(_ conn: ServedConnection, closing: Bool) {
    let fd = conn.descriptor
    loop.deregister(fd, closing: closing)
    if let listener = listeners.removeValue(forKey: fd) {
      listener.open.wrappingDecrement(ordering: .relaxed)
      if listener.service == .admin { stats.adminConnectionsCurrent.wrappingDecrement(ordering: .relaxed) }
    }
    if connections.removeValue(forKey: fd) != nil {
      stats.connectionsCurrent.wrappingDecrement(ordering: .relaxed)
      loopStats.connections.wrappingDecrement(ordering: .relaxed)
    }
    if connections.isEmpty, let whenEmpty {
      self.whenEmpty = nil
      whenEmpty()
    }
  }

  /// Calls `body` once no connection is left (at once if none is).
  func notifyWhenEmpty(_ body: @escaping () -> Void) {
    if connections.isEmpty { body() } else { whenEmpty = body }
  }
}
