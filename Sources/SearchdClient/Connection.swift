import SearchdSystem
import SearchdTLS
import SearchdWire

/// One connection to a server of this protocol: blocking calls with one deadline each, on
/// a non-blocking socket driven by poll(2) so a silent server cannot hang it. It has one
/// user at a time (the pool hands it out and takes it back), hence `@unchecked Sendable`.
public final class Connection: @unchecked Sendable {
  public let target: String
  private let socket: Socket
  /// With --tls, every byte goes through this session.
  private var session: TLSSession?
  /// Where the session's ticket goes for the next connection: TLS 1.3 sends it after the
  /// handshake, so it is taken at close.
  private var tls: ClientTLS?
  private let timeoutMs: Int32
  private var input = InputBuffer()
  private var decoder: FrameDecoder

  private init(socket: Socket, target: String, timeoutMs: Int32, maxReplyBytes: Int) {
    self.socket = socket
    self.target = target
    self.timeoutMs = timeoutMs
    decoder = FrameDecoder(limits: WireLimits(maxHeaderBytes: 65535, maxContentLength: maxReplyBytes))
  }

  /// Connects to the first address of the target that accepts, and with TLS completes the
  /// handshake (resuming the target's last session if it has one).
  public static func connect(
    to endpoint: Endpoint, tls: ClientTLS?, timeout: Double, source: SocketAddress? = nil,
    maxReplyBytes: Int = SearchdClient.Configuration.defaultMaxReplyBytes
  ) throws(ClientError) -> Connection {
    let client = try connect(to: endpoint, timeout: timeout, source: source, maxReplyBytes: maxReplyBytes)
    if let tls {
      do {
        try client.handshake(tls)
      } catch {
        client.close()
        throw error
      }
    }
    return client
  }

  private func handshake(_ tls: ClientTLS) throws(ClientError) {
    let session: TLSSession
    do {
      session = try TLSSession(
        context: tls.context, descriptor: socket.descriptor, accepting: false, serverName: tls.serverName)
    } catch {
      throw .tls(target: target, error)
    }
    if let ticket = tls.ticket { session.resume(ticket) }
    self.tls = tls
    while true {
      switch session.handshake() {
      case .processed:
        self.session = session
        return
      case .wantRead: try waitFor(.readable, phase: "the TLS handshake")
      case .wantWrite: try waitFor(.writable, phase: "the TLS handshake")
      case .closed: throw .tls(target: target, TLSError("handshake", reasons: ["the server closed the connection"]))
      case .failed(let error): throw .tls(target: target, error)
      }
    }
  }

  /// Whether the handshake resumed a session, and the session to offer next time.
  public var tlsResumed: Bool { session?.isResumed ?? false }

  /// Connects to the first address of `endpoint` that accepts, from `source` if given.
  static func connect(to endpoint: Endpoint, timeout: Double, source: SocketAddress?, maxReplyBytes: Int)
    throws(ClientError) -> Connection
  {
    let target = endpoint.description
    let timeoutMs = Int32(max(1, min(timeout * 1000, Double(Int32.max))))
    let addresses: [SocketAddress]
    do { addresses = try endpoint.resolve() } catch { throw .resolve(error) }
    var lastError = Errno.connectionRefused
    for address in addresses {
      do {
        let socket = try Socket(family: address.family)
        if let source { try socket.bindSource(source) }
        if case .wouldBlock = try socket.connect(to: address) {
          let ready = try Poll.wait([(socket.descriptor, .writable)], timeoutMs: timeoutMs)
          if ready[0].isEmpty { throw ClientError.timedOut(target: target, phase: "connecting") }
          if let e = try socket.pendingError() {
            lastError = e
            continue
          }
        }
        return Connection(socket: socket, target: target, timeoutMs: timeoutMs, maxReplyBytes: maxReplyBytes)
      } catch let e as SystemError {
        lastError = e.errno
      } catch let e as ClientError {
        throw e
      } catch {
        continue
      }
    }
    throw .connect(target: target, lastError)
  }

  public func send(_ bytes: [UInt8]) throws(ClientError) {
    var offset = 0
    while offset < bytes.count {
      try waitFor(.writable, phase: "sending")
      offset += try writeSome(bytes, from: offset)
    }
  }

  /// One non-blocking write of `bytes[offset...]`; how many went (0 if it would block).
  private func writeSome(_ bytes: [UInt8], from offset: Int) throws(ClientError) -> Int {
    if let session {
      let outcome = bytes.withUnsafeBytes { raw in session.write(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
      switch outcome {
      case .processed(let n): return n
      case .wantRead, .wantWrite: return 0
      case .closed: throw .closedBeforeReply(target: target)
      case .failed(let error): throw .tls(target: target, error)
      }
    }
    let r = bytes.withUnsafeBytes { raw in
      Result { () throws(SystemError) in try socket.write(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
    }
    switch r {
    case .success(.processed(let n)): return n
    case .success(.wouldBlock): return 0
    case .failure(let e) where e.errno == .brokenPipe || e.errno == .connectionReset:
      throw .closedBeforeReply(target: target)
    case .failure(let e): throw .io(target: target, e)
    }
  }

  /// One non-blocking read into `input`; true at end of stream.
  private func readSome() throws(ClientError) -> Bool {
    var eof = false
    var failure: ClientError?
    do {
      _ = try input.write(upTo: 65536) { (raw) throws(SystemError) -> Int in
        guard let session else {
          switch try socket.read(into: raw) {
          case .processed(let n):
            eof = n == 0
            return n
          case .wouldBlock: return 0
          }
        }
        switch session.read(into: raw) {
        case .processed(let n): return n
        case .wantRead, .wantWrite: return 0
        case .closed:
          eof = true
          return 0
        case .failed(let error):
          failure = .tls(target: target, error)
          return 0
        }
      }
    } catch {
      if error.errno == .connectionReset && input.isEmpty { throw .closedBeforeReply(target: target) }
      throw .io(target: target, error)
    }
    if let failure { throw failure }
    return eof
  }

  /// Decrypted bytes are waiting in the session: poll would not report them.
  private var hasBufferedInput: Bool { session?.hasBufferedInput ?? false }

  /// Reads until one whole message has arrived. A close before any reply byte is
  /// `.closedBeforeReply`, the one case a retry is safe in.
  public func receiveFrame() throws(ClientError) -> Frame {
    while true {
      switch decoder.decode(&input) {
      case .frame(let f): return f
      case .failed(let e): throw .badReply(target: target, e.detail)
      case .needMore: break
      }
      try checkFraming()
      if !hasBufferedInput { try waitFor(.readable, phase: "waiting for the reply") }
      let eof = try readSome()
      if eof { throw input.isEmpty ? .closedBeforeReply(target: target) : .truncatedReply(target: target) }
    }
  }

  /// A reply's header is JSON: a peer whose third byte cannot start one is not speaking
  /// this protocol (an HTTP or TLS server), and is told so now rather than at a timeout.
  private func checkFraming() throws(ClientError) {
    guard input.readableCount >= 3 else { return }
    let head = Array(input.peek(3))
    let third = head[2]
    guard third == UInt8(ascii: "{") || third == 0x20 || third == 0x09 || third == 0x0A || third == 0x0D else {
      throw .badReply(target: target, "it does not begin as this protocol's replies do (\(head))")
    }
  }

  /// Sends `bytes` and reads back as many, interleaving the two so a large message
  /// cannot deadlock against a server that stops reading while its replies are unread.
  public func echo(_ bytes: [UInt8]) throws(ClientError) -> [UInt8] {
    var sent = 0
    var received: [UInt8] = []
    while received.count < bytes.count {
      var wanted: Poll.Events = [.readable]
      if sent < bytes.count { wanted.insert(.writable) }
      let ready: Poll.Events
      do {
        ready = try Poll.wait([(socket.descriptor, wanted)], timeoutMs: timeoutMs)[0]
      } catch {
        throw .io(target: target, error)
      }
      if ready.isEmpty { throw .timedOut(target: target, phase: "waiting for the echo") }
      if ready.contains(.writable) && sent < bytes.count { sent += try writeSome(bytes, from: sent) }
      if !ready.isDisjoint(with: [.readable, .hangup, .error]) {
        let eof = try readSome()
        received += input.consume(input.readableCount)
        if eof { break }
      }
    }
    return received
  }

  private func waitFor(_ events: Poll.Events, phase: String) throws(ClientError) {
    do {
      let ready = try Poll.wait([(socket.descriptor, events)], timeoutMs: timeoutMs)
      if ready[0].isEmpty { throw ClientError.timedOut(target: target, phase: phase) }
    } catch let e as SystemError {
      throw .io(target: target, e)
    } catch let e as ClientError {
      throw e
    } catch {
      fatalError("unreachable")
    }
  }

  /// Nothing has arrived unasked: not the end of the stream (the server closed it, idle or
  /// after its one reply), not stray bytes. Asked before a pooled connection is used again.
  var isReusable: Bool {
    guard input.isEmpty, !hasBufferedInput else { return false }
    guard let ready = try? Poll.wait([(socket.descriptor, [.readable])], timeoutMs: 0) else { return false }
    return ready[0].isEmpty
  }

  public func close() {
    if let session, let tls, !session.isResumed, let ticket = session.resumableSession { tls.ticket = ticket }
    session?.shutdown()
    session = nil
    socket.close()
  }
}
