import Foundation
import Testing

/// The tutorial's echo server and multi-connection client, production-grade.
@Suite(.timeLimit(.minutes(2))) struct EchoTests {
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

  @Test func largeEchoWithBackpressure() throws {
    let daemon = try Daemon(echo: true)
    let r = try searchctl(["echo", "-p", "\(daemon.echoPort)", String(repeating: "x", count: 120_000)])
    #expect(r.status == 0)
    #expect(r.stdout.count == 120_001)
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
