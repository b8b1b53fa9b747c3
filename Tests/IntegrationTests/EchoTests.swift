import Foundation
import Glibc
import Testing

@testable import IntegrationSupport

/// The tutorial's echo server and multi-connection client, production-grade.
@Suite(.daemonSuite) struct EchoTests {
  @Test func fiftyConnectionsAtOnceEachGetEveryByteBack() throws {
    let daemon = try Daemon(echo: true)
    let clients = try (0..<50).map { _ in try TestClient(port: daemon.echoPort) }
    let messages = (0..<50).map { i in Array("Message 1 from client \(i).Message 2 from client \(i).".utf8) }
    for (c, m) in zip(clients, messages) { try c.send(m) }
    for (c, m) in zip(clients, messages) {
      var got: [UInt8] = []
      while got.count < m.count {
        let chunk = try c.readRaw(timeout: 5)
        if chunk.isEmpty { break }
        got += chunk
      }
      #expect(got == m)
      try c.socket.shutdown(.write)
      #expect(try c.closes(within: 10), "the server closes after the peer does")
    }
  }

  /// 6 MiB, more than the kernel buffers hold with the client's receive buffer kept small,
  /// sent by a client that reads only after a while: searchd stops reading it at the high
  /// watermark (counted), resumes as it drains, and every byte comes back in order.
  @Test func largeEchoWithBackpressure() throws {
    let daemon = try Daemon(
      ["--output-high-watermark", "16384", "--output-low-watermark", "4096", "--read-size", "4096"], echo: true)
    let c = try TestClient(port: daemon.echoPort)
    var small: Int32 = 65536
    setsockopt(c.socket.descriptor, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
    // A 251-byte cycle (prime, so no read or buffer size lines up with it): order shows.
    let count = 6 << 20
    let sent = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      for i in 0..<251 { buffer[i] = UInt8(i) }
      var filled = 251
      while filled < count {
        let n = min(filled, count - filled)
        (buffer.baseAddress! + filled).update(from: buffer.baseAddress!, count: n)
        filled += n
      }
      initialized = count
    }
    let writer = Thread { try? c.send(sent) }
    writer.start()
    usleep(300_000)  // the client reads nothing meanwhile: the replies pile up
    var got = [UInt8]()
    got.reserveCapacity(count)
    while got.count < count {
      let chunk = try c.readRaw(timeout: 10)
      if chunk.isEmpty { break }
      got += chunk
    }
    #expect(got.count == count)
    #expect(got.count == count && memcmp(got, sent, count) == 0, "every byte echoed, in order")
    #expect(try daemon.stats()["output_paused"] as? Int ?? 0 > 0, "reading paused at the watermark")
  }

  @Test func searchctlMultiConnectionClient() throws {
    let daemon = try Daemon(echo: true)
    let r = try searchctl(["echo", "-p", "\(daemon.echoPort)", "--connections", "50"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("connection 50: sent 44 bytes, received 44 bytes, echoed intact"))
    #expect(r.stdout.contains("50 of 50 connections echoed every byte"))
  }
}

extension TestClient {
  /// Whatever bytes arrive next (empty at end of stream).
  func readRaw(timeout: Double) throws -> [UInt8] {
    _ = try SearchdSystemPoll.readable(socket.descriptor, timeout: timeout)
    var buf = [UInt8](repeating: 0, count: 65536)
    let n = try buf.withUnsafeMutableBytes { try socket.read(into: $0) }
    if case .processed(let k) = n { return Array(buf[..<k]) }
    return []
  }
}
