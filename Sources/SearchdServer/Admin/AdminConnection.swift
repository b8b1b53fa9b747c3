import SearchdConfig
import SearchdLoop
import SearchdSystem
import SearchdWire

/// One connection to the admin listener: strict, minimal HTTP/1.1. It reads one request
/// head (bounded, within request-timeout), answers it and closes: GET and HEAD of
/// /metrics, /healthz and /readyz; everything else a 4xx. It shares nothing with the
/// search path but the loop.
final class AdminConnection: EventHandler, ProtocolConnection {
  private let socket: Socket
  let descriptor: Int32
  private unowned let context: ConnectionContext
  private let routes: AdminRoutes
  private let deadline: UInt64
  private var input: [UInt8] = []
  private var output: [UInt8] = []
  private var written = 0

  init(socket: Socket, context: ConnectionContext, routes: AdminRoutes) {
    self.socket = socket
    descriptor = socket.descriptor
    self.context = context
    self.routes = routes
    deadline = context.now + context.limits.requestTimeout.nanoseconds
  }

  func handleEvents(_ ready: Interest) {
    if output.isEmpty {
      readHead()
    } else {
      flush()
    }
  }

  private func readHead() {
    var chunk = [UInt8](repeating: 0, count: HTTPRequestHead.maxBytes - input.count + 1)
    let r = chunk.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try socket.read(into: raw) } }
    guard case .success(let result) = r else { return close() }
    guard case .processed(let n) = result else { return }
    if n == 0 { return close() }
    received(chunk[0..<n])
  }

  func handleReceived(_ bytes: UnsafeRawBufferPointer) { received(bytes) }

  private func received(_ bytes: some Collection<UInt8>) {
    input += bytes
    switch input.withUnsafeBytes({ HTTPRequestHead.decode($0) }) {
    case .needMore: return
    case .refused(let status, let reason): respond(AdminRoutes.refusal(status, reason), head: false)
    case .head(let head, _): respond(routes.answer(head.path), head: head.method == "HEAD")
    }
  }

  private func respond(_ response: AdminRoutes.Response, head: Bool) {
    output = response.bytes(head: head)
    flush()
  }

  private func flush() {
    while written < output.count {
      let r = output.withUnsafeBytes { raw in
        Result { () throws(SystemError) in try socket.write(UnsafeRawBufferPointer(rebasing: raw[written...])) }
      }
      guard case .success(let result) = r else { return close() }
      guard case .processed(let n) = result else {
        // Not watched for writability, the rest would never be sent: closed instead.
        do { try context.loop.modify(descriptor, interest: .writable) } catch { close() }
        return
      }
      written += n
    }
    // Everything said: a FIN, and the peer's next bytes (if any) are not read.
    try? socket.shutdown(.write)
    close()
  }

  func sweep(now: UInt64) {
    guard now >= deadline else { return }
    if output.isEmpty && !input.isEmpty {
      respond(AdminRoutes.refusal(408, "the request head did not come within request-timeout"), head: false)
    } else {
      close()
    }
  }

  func drain() { close() }
  func forceClose() { close() }

  private func close() { context.registry.close(self, socket: socket) }
}
