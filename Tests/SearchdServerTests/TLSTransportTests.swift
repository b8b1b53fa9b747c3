import Atomics
import Glibc
import Logging
import SearchdConfig
import SearchdSystem
import SearchdTLS
import SearchdWire
import Testing

@testable import IntegrationSupport
@testable import SearchdServer

/// The TLS transport over a real socket pair, its client a `TLSSession` in the same thread:
/// the handshake inside the first reads, the allow-list, the failures it counts, its
/// deadline, and bytes both ways once it is done.
@Suite(.timeLimit(.minutes(10))) struct TLSTransportTests {
  private let certificates: Certificates

  init() throws {
    certificates = try Certificates()
    try certificates.issue("alice", cn: "alice", by: "ca")
    try certificates.issue("mallory", cn: "mallory", by: "ca")
  }

  /// A server transport and a client session over a fresh socket pair.
  private struct Pair {
    let server: TLSTransport
    let client: TLSSession
    let clientSocket: Socket
    let stats: ServerStats
    let loop: TLSLoop
  }

  private func pair(
    allowed: [String] = [], admins: [String] = [], clientCertificate: String? = nil, now: UInt64 = 0
  ) throws -> Pair {
    var fds: [Int32] = [0, 0]
    #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
    var settings = TLSSettings()
    settings.certificate = certificates.path("server")
    settings.key = certificates.key("server")
    if clientCertificate != nil || !allowed.isEmpty { settings.clientCA = certificates.path("ca") }
    settings.allowedClients = NameList(allowed)
    settings.adminClients = NameList(admins)
    settings.handshakeTimeout = .seconds(3)
    let stats = ServerStats(startedAt: 0)
    let loop = TLSLoop(
      context: try settings.makeContext(), settings: settings, stats: stats, logger: Logger(label: "test"))
    let server = try TLSTransport(socket: Socket(adopting: fds[0]), tls: loop, id: 1, peer: nil, now: now)
    let clientContext = try TLSContext.client(
      caFile: certificates.path("ca"), certificate: clientCertificate.map(certificates.path),
      key: clientCertificate.map(certificates.key))
    let clientSocket = Socket(adopting: fds[1])
    let client = try TLSSession(
      context: clientContext, descriptor: clientSocket.descriptor, accepting: false, serverName: "localhost")
    return Pair(server: server, client: client, clientSocket: clientSocket, stats: stats, loop: loop)
  }

  private func failures(_ p: Pair, _ failure: TLSFailure) -> Int {
    p.stats.tlsFailures[failure.index].load(ordering: .relaxed)
  }

  /// Steps both sides until the server's read gets past the handshake: the bytes it then
  /// reads (the client's `message`), or the error its read threw.
  private func handshakeAndRead(_ p: Pair, message: [UInt8]) -> Result<[UInt8], SystemError> {
    var sent = false
    var received: [UInt8] = []
    for _ in 0..<200 {
      if !sent, p.client.handshake() == .processed(0) {
        sent = message.withUnsafeBytes { p.client.write($0) } == .processed(message.count)
      }
      var buffer = [UInt8](repeating: 0, count: 256)
      let n = buffer.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try p.server.read(into: raw) } }
      switch n {
      case .failure(let error): return .failure(error)
      case .success(.processed(let count)):
        received += buffer[..<count]
        if received.count >= message.count { return .success(received) }
      case .success(.wouldBlock): continue
      }
    }
    return .success(received)
  }

  @Test func aHandshakeInsideTheFirstReadsThenBytesBothWays() throws {
    let p = try pair()
    #expect(try handshakeAndRead(p, message: Array("ping".utf8)).get() == Array("ping".utf8))
    #expect(p.stats.tlsHandshakes.load(ordering: .relaxed) == 1)
    // A gathered write goes out as one record the client reads whole.
    var (a, b, c) = (Array("po".utf8), Array("n".utf8), Array("g".utf8))
    let written = a.withUnsafeMutableBytes { a in
      b.withUnsafeMutableBytes { b in
        c.withUnsafeMutableBytes { c in
          var iov = [
            iovec(iov_base: a.baseAddress, iov_len: 2), iovec(iov_base: b.baseAddress, iov_len: 1),
            iovec(iov_base: c.baseAddress, iov_len: 1),
          ]
          return iov.withUnsafeMutableBufferPointer { try? p.server.writev($0) }
        }
      }
    }
    guard case .processed(4)? = written else {
      Issue.record("the gathered write did not go out whole: \(String(describing: written))")
      return
    }
    var buffer = [UInt8](repeating: 0, count: 16)
    let n = buffer.withUnsafeMutableBytes { p.client.read(into: $0) }
    #expect(n == .processed(4))
    #expect(Array(buffer[..<4]) == Array("pong".utf8))
    #expect(p.server.client == nil)
    #expect(!p.server.grantsAdmin)
  }

  @Test func plaintextIsRefusedBeforeOpenSSLReadsAByte() throws {
    let p = try pair()
    let request = Message.encode(
      contentType: Message.jsonType, contentEncoding: "utf-8",
      content: Array(#"{"action": "search", "value": "x"}"#.utf8))
    _ = request.withUnsafeBytes { try? p.clientSocket.write($0) }
    var buffer = [UInt8](repeating: 0, count: 64)
    #expect(throws: SystemError.self) { _ = try buffer.withUnsafeMutableBytes { try p.server.read(into: $0) } }
    #expect(failures(p, .plaintext) == 1)
    #expect(failures(p, .handshake) == 0)
  }

  @Test func aListedClientIsServedAndNamedAndMayAdminister() throws {
    let p = try pair(allowed: ["alice"], admins: ["alice"], clientCertificate: "alice")
    #expect(try handshakeAndRead(p, message: [1, 2, 3]).get() == [1, 2, 3])
    #expect(p.server.client == "alice")
    #expect(p.server.grantsAdmin)
  }

  /// The allow-list holds at the handshake: a certificate from the right CA with a name
  /// not on the list gets no byte through.
  @Test func aClientOffTheAllowListGetsNoByteThrough() throws {
    let p = try pair(allowed: ["alice"], clientCertificate: "mallory")
    guard case .failure = handshakeAndRead(p, message: [1, 2, 3]) else {
      Issue.record("mallory's bytes were read")
      return
    }
    #expect(failures(p, .notAllowed) == 1)
    #expect(p.stats.tlsHandshakes.load(ordering: .relaxed) == 0)
  }

  @Test func noCertificateWhereAListIsSetIsRefused() throws {
    let p = try pair(allowed: ["alice"])
    guard case .failure = handshakeAndRead(p, message: [1]) else {
      Issue.record("a client without a certificate was read")
      return
    }
    #expect(failures(p, .noCertificate) == 1)
  }

  @Test func aPeerThatClosesBeforeTheHandshakeIsCountedAsClosed() throws {
    let p = try pair()
    p.clientSocket.close()
    var buffer = [UInt8](repeating: 0, count: 16)
    #expect(throws: SystemError.self) { _ = try buffer.withUnsafeMutableBytes { try p.server.read(into: $0) } }
    #expect(failures(p, .closed) == 1)
  }

  /// The handshake's deadline: counted once it passes, and restarted by a PROXY header
  /// (the handshake starts after it).
  @Test func theHandshakeDeadlineAndItsRestartAfterAProxyHeader() throws {
    let second: UInt64 = 1_000_000_000
    let p = try pair(now: 10 * second)
    #expect(!p.server.expired(now: 13 * second - 1))
    p.server.proxyHeaderRead(client: .ipv4(host: [192, 0, 2, 7], port: 5000), now: 12 * second)
    #expect(!p.server.expired(now: 15 * second - 1))
    #expect(failures(p, .timeout) == 0)
    #expect(p.server.expired(now: 15 * second))
    #expect(failures(p, .timeout) == 1)
  }

  /// A write to a peer that has gone is an error (EPIPE), never a write of 0 bytes: the
  /// driver would try that again at once, and a loop spun at 100% CPU on one such
  /// connection, its other connections stalled.
  @Test func aWriteToAPeerThatHasGoneFails() throws {
    // As the daemon does: a peer gone shows up as EPIPE, not as a signal that kills.
    signal(SIGPIPE, SIG_IGN)
    let p = try pair()
    #expect(try handshakeAndRead(p, message: [1]).get() == [1])
    p.clientSocket.close()
    let reply = [UInt8](repeating: 7, count: 1000)
    var failure: SystemError?
    var waiting = false
    for _ in 0..<100 where failure == nil && !waiting {
      let r = reply.withUnsafeBytes { raw in Result { () throws(SystemError) in try p.server.write(raw) } }
      switch r {
      case .failure(let error): failure = error
      case .success(.processed(let n)) where n > 0: continue
      case .success(.processed): Issue.record("a write of 0 bytes: the driver would try it again at once")
      // OpenSSL may want to read first (what the peer sent before it went): the driver then
      // waits for readability, and the read must report the peer gone, not wait again.
      case .success(.wouldBlock): waiting = true
      }
    }
    if waiting {
      var buffer = [UInt8](repeating: 0, count: 4096)
      let r = buffer.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try p.server.read(into: raw) } }
      switch r {
      case .failure: break
      case .success(.processed(let n)): #expect(n == 0, "the read after the peer went reports its end")
      case .success(.wouldBlock): Issue.record("neither the write nor the read reports the peer gone")
      }
    } else {
      #expect(failure?.errno == .brokenPipe)
    }
  }

  /// Records that arrived together are all read at once: OpenSSL has taken them off the
  /// socket, so no readiness would come for the second (a pipelining client stalled).
  @Test func oneReadTakesEveryRecordAlreadyArrived() throws {
    let p = try pair()
    #expect(try handshakeAndRead(p, message: [1]).get() == [1])
    for record in [[2, 3], [4, 5], [6]] as [[UInt8]] {
      #expect(record.withUnsafeBytes { p.client.write($0) } == .processed(record.count))
    }
    var buffer = [UInt8](repeating: 0, count: 64)
    let n = buffer.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try p.server.read(into: raw) } }
    guard case .success(.processed(let count)) = n else {
      Issue.record("no bytes: \(n)")
      return
    }
    #expect(Array(buffer[..<count]) == [2, 3, 4, 5, 6])
    #expect(!p.server.hasBufferedInput)
  }

  /// A read whose buffer fills with records still inside OpenSSL asks to be called back
  /// (writable is ready at once), since the socket will say nothing.
  @Test func aFullReadWithMoreInsideOpenSSLAsksToComeBack() throws {
    let p = try pair()
    #expect(try handshakeAndRead(p, message: [1]).get() == [1])
    for record in [[2, 3], [4, 5]] as [[UInt8]] {
      #expect(record.withUnsafeBytes { p.client.write($0) } == .processed(record.count))
    }
    var buffer = [UInt8](repeating: 0, count: 2)
    _ = buffer.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try p.server.read(into: raw) } }
    #expect(buffer == [2, 3])
    #expect(p.server.interest(for: .readable) == [.readable, .writable])
    _ = buffer.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try p.server.read(into: raw) } }
    #expect(buffer == [4, 5])
    #expect(p.server.interest(for: .readable) == .readable)
  }
}
