import Logging
import SearchdLoop
import SearchdSystem
import SearchdWire

/// Accepts on one listener for one loop. Every loop has one per listener,
/// registered with EPOLLEXCLUSIVE, so the kernel wakes one loop per connection.
final class Acceptor: EventHandler {
  enum Service: String { case app, echo }

  let listener: Listener
  let service: Service
  private unowned let worker: LoopWorker
  private var registered = false
  private var lastEMFILELog: UInt64 = 0
  private var lastRejectLog: UInt64 = 0

  init(listener: Listener, worker: LoopWorker) {
    self.listener = listener
    self.service = listener.name == "echo" ? .echo : .app
    self.worker = worker
  }

  func start() throws(SystemError) {
    guard !registered else { return }
    try worker.loop.register(listener.socket.descriptor, events: [.readable, .exclusive], handler: self)
    registered = true
  }

  func stop() {
    guard registered else { return }
    worker.loop.deregister(listener.socket.descriptor)
    registered = false
  }

  func handleEvents(_ events: EpollEvents) {
    let shared = worker.shared
    for _ in 0..<shared.config.acceptsPerWakeup {
      let socket: Socket
      let peer: SocketAddress?
      do {
        switch try listener.socket.acceptWithPeer() {
        case .processed(let accepted): (socket, peer) = accepted
        case .wouldBlock: return
        }
      } catch {
        handleAcceptError(error)
        return
      }
      if shared.stats.connectionsCurrent.load(ordering: .relaxed) >= shared.maxConnections {
        logRejection()
        reject(socket)
        continue
      }
      worker.adopt(socket, peer: peer, service: service, listener: listener)
    }
  }

  /// Over max-connections: a best-effort error reply, then close. Existing connections are untouched.
  /// At most once a second, however many are turned away.
  private func logRejection() {
    let now = worker.loop.now
    guard now - lastRejectLog > 1_000_000_000 else { return }
    lastRejectLog = now
    worker.logger.warning(
      "max-connections reached: turning new connections away",
      metadata: ["searchd_error": "too-many-connections", "searchd_listener": "\(listener)"])
  }

  private func reject(_ socket: Socket) {
    worker.shared.stats.connectionsRejected.wrappingIncrement(ordering: .relaxed)
    if service == .app {
      let reply = Reply.error(
        WireError(.tooManyConnections, "too many connections, try again later", closesConnection: true))
      _ = reply.withUnsafeBytes { try? socket.write($0) }
    }
    socket.close()
  }

  /// Frees the spare descriptor and with it accepts and closes (with the error reply if
  /// it takes it) every connection waiting, then takes the spare back: the peers hear
  /// "no" at once instead of waiting out the pause in the backlog (libuv's EMFILE trick).
  private func shedWaitingWithSpareDescriptor() {
    worker.spare.release()
    defer { worker.spare.reacquire() }
    // Bounded by the backlog; the cap only guards against a peer that reconnects as fast.
    for _ in 0..<4096 {
      guard case .processed(let socket)? = try? listener.socket.accept() else { return }
      reject(socket)
    }
  }

  private func handleAcceptError(_ error: SystemError) {
    worker.shared.stats.acceptErrors.wrappingIncrement(ordering: .relaxed)
    switch error.errno {
    case .tooManyOpenFiles, .tooManyOpenFilesInSystem:
      worker.shared.stats.emfileEvents.wrappingIncrement(ordering: .relaxed)
      shedWaitingWithSpareDescriptor()
      // Whatever else is queued would make epoll report the listener again at once:
      // stop watching it for a while instead of spinning.
      let now = worker.loop.now
      if now - lastEMFILELog > 1_000_000_000 {
        lastEMFILELog = now
        worker.logger.warning(
          "accept: out of file descriptors; pausing accepts for 500 ms",
          metadata: ["searchd_listener": "\(listener)", "searchd_error": "emfile"])
      }
      stop()
      worker.loop.schedule(afterNanoseconds: 500_000_000) { [weak self] in
        guard let self, !self.worker.draining else { return }
        try? self.start()
      }
    default:
      // ECONNABORTED and friends concern one connection, not the listener.
      worker.logger.debug("accept failed", metadata: ["searchd_error": "\(error)"])
    }
  }
}
