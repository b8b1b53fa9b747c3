import Logging
import SearchdLoop
import SearchdSystem
import SearchdWire

/// The tutorial's echo service: every byte read is written back, until the peer
/// closes. Reading pauses while too much is queued for a peer that is not reading.
final class EchoConnection: EventHandler, ServedConnection {
  let socket: Socket
  let id: UInt64
  private unowned let worker: LoopWorker
  private let logger: Logger
  private var input = InputBuffer()
  private var output = OutputQueue()
  private var inputClosed = false
  private var draining = false
  private var lastActivity: UInt64
  private var lastWriteProgress: UInt64
  private var registered: EpollEvents = [.readable, .readHangup]

  init(socket: Socket, id: UInt64, worker: LoopWorker, logger: Logger) {
    self.socket = socket
    self.id = id
    self.worker = worker
    self.logger = logger
    lastActivity = worker.loop.now
    lastWriteProgress = worker.loop.now
  }

  private var limits: ConnectionLimits { worker.shared.config.connection }
  private var wantsInput: Bool { !inputClosed && !draining && output.pendingBytes < limits.highWatermark }

  func handleEvents(_ events: EpollEvents) {
    if wantsInput && !events.isDisjoint(with: [.readable, .readHangup, .hangup, .error]) {
      do {
        worker.inputs.lend(into: &input)
        defer { worker.inputs.takeBack(&input) }
        if let n = try readOnce(socket, into: &input, upTo: limits.readChunk) {
          if n == 0 { inputClosed = true } else { lastActivity = worker.loop.now }
          if input.readableCount > 0 {
            if output.isEmpty { lastWriteProgress = worker.loop.now }
            worker.shared.stats.echoBytes.wrappingIncrement(by: input.readableCount, ordering: .relaxed)
            output.append(input.consume(input.readableCount))
          }
        }
      } catch {
        close(reason: "read failed: \(error.errno)")
        return
      }
    }
    flush()
  }

  private func flush() {
    while !output.isEmpty {
      do {
        switch try output.write(to: socket) {
        case .processed(let n):
          if n > 0 { lastWriteProgress = worker.loop.now }
        case .wouldBlock:
          update(writable: true)
          return
        }
      } catch {
        close(reason: "write failed: \(error.errno)")
        return
      }
    }
    if inputClosed || draining {
      close(reason: inputClosed ? "peer closed" : "shutdown")
      return
    }
    update(writable: false)
  }

  private func update(writable: Bool) {
    var e: EpollEvents = [.readHangup]
    if wantsInput { e.insert(.readable) }
    if writable { e.insert(.writable) }
    guard e != registered else { return }
    registered = e
    do { try worker.loop.modify(socket.descriptor, events: e) } catch {
      close(reason: "epoll_ctl failed: \(error.errno)")
    }
  }

  func sweep(now: UInt64) {
    if !output.isEmpty {
      if now - lastWriteProgress > limits.sendTimeout.nanoseconds {
        worker.shared.stats.sendTimeouts.wrappingIncrement(ordering: .relaxed)
        close(reason: "send timeout")
      }
      return
    }
    let idle = limits.idleTimeout.nanoseconds
    if idle > 0 && now - lastActivity > idle {
      worker.shared.stats.idleKicks.wrappingIncrement(ordering: .relaxed)
      close(reason: "idle timeout")
      return
    }
    output.releaseIfEmpty()
  }

  func drain() {
    draining = true
    flush()
  }

  func forceClose() { close(reason: "shutdown deadline") }

  private func close(reason: String) {
    guard socket.isOpen else { return }
    logger.debug("echo connection closed", metadata: ["searchd_connection": "\(id)", "searchd_reason": "\(reason)"])
    worker.remove(self)
    socket.close()
  }
}
