import Logging
import SearchdConfig
import SearchdLoop
import SearchdSystem
import SearchdWire

/// Accepts on one listener for one loop. Every loop has one per listener, registered
/// exclusively, so the kernel wakes one loop per connection. It hands each connection
/// to `adopt`; it knows nothing of what is served on it.
final class Acceptor: EventHandler {
  let served: ServiceListener
  private let loop: EventLoop
  private let shared: SharedState
  private let spare: SpareDescriptor
  private let logger: Logger
  private let adopt: (Socket, SocketAddress?) -> Void
  private var registered = false
  /// Stopped for good (a drain): a pending re-arm after EMFILE must not start it again.
  private var retired = false
  private var warnings = RateLimitedLog<String>()

  init(
    served: ServiceListener, loop: EventLoop, shared: SharedState, spare: SpareDescriptor, logger: Logger,
    adopt: @escaping (Socket, SocketAddress?) -> Void
  ) {
    self.served = served
    self.loop = loop
    self.shared = shared
    self.spare = spare
    self.logger = logger
    self.adopt = adopt
  }

  private var listener: Listener { served.listener }

  func start() throws(SystemError) {
    guard !registered, !retired else { return }
    try loop.register(listener.socket.descriptor, interest: .readable, exclusive: true, handler: self)
    registered = true
  }

  /// Stops accepting for good.
  func retire() {
    retired = true
    pause()
  }

  private func pause() {
    guard registered else { return }
    loop.deregister(listener.socket.descriptor)
    registered = false
  }

  func handleEvents(_ ready: Interest) {
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
      if shared.atLimit(served.service) {
        let setting = served.service == .admin ? "admin-max-connections" : "max-connections"
        warnings.report(setting, now: loop.now) { suppressed in
          logger.warning(
            "\(setting) reached: turning new connections away",
            metadata: [
              "searchd_error": "too-many-connections", "searchd_listener": "\(listener)",
              "searchd_suppressed": "\(suppressed)",
            ])
        }
        reject(socket)
        continue
      }
      served.accepted.wrappingIncrement(ordering: .relaxed)
      adopt(socket, peer)
    }
  }

  /// Over max-connections: a best-effort error reply, then close. Existing connections are untouched.
  private func reject(_ socket: Socket) {
    shared.stats.connectionsRejected.wrappingIncrement(ordering: .relaxed)
    served.rejected.wrappingIncrement(ordering: .relaxed)
    // Best effort by design: the peer is being turned away either way.
    switch served.service {
    case .app:
      let reply = Reply.error(
        WireError(.tooManyConnections, "too many connections, try again later", closesConnection: true))
      _ = reply.withUnsafeBytes { try? socket.write($0) }
    case .admin:
      _ = AdminRoutes.tooBusy.withUnsafeBytes { try? socket.write($0) }
    case .echo, .appTLS: break
    }
    socket.close()
  }

  /// Frees the spare descriptor and with it accepts and closes (with the error reply if
  /// it takes it) every connection waiting, then takes the spare back: the peers hear
  /// "no" at once instead of waiting out the pause in the backlog (libuv's EMFILE trick).
  private func shedWaitingWithSpareDescriptor() {
    spare.release()
    defer { spare.reacquire() }
    // Bounded by the backlog; the cap only guards against a peer that reconnects as fast.
    for _ in 0..<4096 {
      do {
        guard case .processed(let socket) = try listener.socket.accept() else { return }
        reject(socket)
      } catch {
        return
      }
    }
  }

  private func handleAcceptError(_ error: SystemError) {
    shared.stats.acceptErrors.wrappingIncrement(ordering: .relaxed)
    switch error.errno {
    case .tooManyOpenFiles, .tooManyOpenFilesInSystem:
      shared.stats.emfileEvents.wrappingIncrement(ordering: .relaxed)
      shedWaitingWithSpareDescriptor()
      warnings.report("emfile", now: loop.now) { suppressed in
        logger.warning(
          "accept: out of file descriptors; pausing accepts for 500 ms",
          metadata: [
            "searchd_listener": "\(listener)", "searchd_error": "emfile", "searchd_suppressed": "\(suppressed)",
          ])
      }
      // Whatever else is queued would make the loop report the listener again at once:
      // stop watching it for a while instead of spinning.
      pause()
      rearm(afterNanoseconds: 500_000_000)
    default:
      // ECONNABORTED and friends concern one connection, not the listener.
      logger.debug("accept failed", metadata: ["searchd_error": "\(error)"])
    }
  }

  /// Starts watching the listener again later; a failure is logged and retried, so a
  /// loop never silently stops accepting.
  private func rearm(afterNanoseconds delay: UInt64) {
    loop.schedule(afterNanoseconds: delay) { [weak self] in
      guard let self, !self.retired else { return }
      do {
        try self.start()
      } catch {
        self.logger.error(
          "cannot watch the listener again; retrying in 1 s",
          metadata: ["searchd_listener": "\(self.listener)", "searchd_error": "\(error)"])
        self.rearm(afterNanoseconds: 1_000_000_000)
      }
    }
  }
}
