import Logging
import SearchdConfig
import SearchdLoop
import SearchdSystem
import SearchdWire

/// The tutorial's echo service: every byte read is written back, until the peer
/// closes. Reading pauses while too much is queued for a peer that is not reading.
final class EchoConnection: EventHandler, ProtocolConnection {
  let transport: any Transport
  let id: UInt64
  let descriptor: Int32
  private unowned let context: ConnectionContext
  private var input = InputBuffer()
  private var output = OutputQueue()
  private var inputClosed = false
  private var draining = false
  private var lastActivity: UInt64
  private var lastWriteProgress: UInt64
  private var interest: Interest = .readable

  init(transport: any Transport, id: UInt64, context: ConnectionContext) {
    self.transport = transport
    descriptor = transport.descriptor
    self.id = id
    self.context = context
    lastActivity = context.now
    lastWriteProgress = context.now
  }

  private var limits: ConnectionLimits { context.limits }
  private var wantsInput: Bool { !inputClosed && !draining && output.pendingBytes < limits.highWatermark }

  func handleEvents(_ ready: Interest) {
    if wantsInput && (ready.contains(.readable) || transport.hasBufferedInput) {
      do {
        context.inputs.lend(into: &input)
        defer { context.inputs.takeBack(&input) }
        if let n = try readOnce(transport, into: &input, upTo: limits.readChunk) {
          if n == 0 { inputClosed = true } else { lastActivity = context.now }
          echoInput()
        }
      } catch {
        close(reason: "read failed: \(error.errno)")
        return
      }
    }
    flush()
  }

  func handleReceived(_ bytes: UnsafeRawBufferPointer) {
    context.inputs.lend(into: &input)
    input.append(bytes)
    lastActivity = context.now
    echoInput()
    context.inputs.takeBack(&input)
    flush()
  }

  /// Queues everything read so far to be written back.
  private func echoInput() {
    guard input.readableCount > 0 else { return }
    if output.isEmpty { lastWriteProgress = context.now }
    context.stats.echoBytes.wrappingIncrement(by: input.readableCount, ordering: .relaxed)
    output.append(input.consume(input.readableCount))
  }

  private func flush() {
    while !output.isEmpty {
      do {
        switch try output.write(to: transport) {
        case .processed(let n):
          if n > 0 { lastWriteProgress = context.now }
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
    var wanted: Interest = []
    if wantsInput { wanted.insert(.readable) }
    if writable { wanted.insert(.writable) }
    let needed = transport.interest(for: wanted)
    guard needed != interest else { return }
    if interest.contains(.readable) && !wanted.contains(.readable) && output.pendingBytes >= limits.highWatermark {
      context.stats.outputPaused.wrappingIncrement(ordering: .relaxed)
    }
    interest = needed
    do { try context.loop.modify(descriptor, interest: needed) } catch {
      close(reason: "epoll_ctl failed: \(error.errno)")
    }
  }

  func sweep(now: UInt64) {
    if !output.isEmpty {
      if now - lastWriteProgress > limits.sendTimeout.nanoseconds {
        context.stats.sendTimeouts.wrappingIncrement(ordering: .relaxed)
        close(reason: "send timeout")
      }
      return
    }
    let idle = limits.idleTimeout.nanoseconds
    if idle > 0 && now - lastActivity > idle {
      context.stats.idleKicks.wrappingIncrement(ordering: .relaxed)
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
    context.registry.close(self, transport: transport, id: id, reason: reason, logger: context.logger)
  }
}
