import Foundation
import SearchdSystem
import SearchdWire

/// A client of searchd (or of the tutorial's server): pooled keep-alive connections, one
/// deadline per call, pipelining, TLS, and the retry rule `searchctl` has always used.
///
///     let client = SearchdClient(.init(endpoint: .host("127.0.0.1", port: 65432)))
///     let value = try await client.search("morpheus")  // "Follow the white rabbit. 🐇"
///
/// The calls are blocking I/O under poll(2) with a deadline, run on Dispatch's worker
/// threads so no caller's executor blocks; at most `maxIdle` connections are kept open.
public final class SearchdClient: Sendable {
  public struct Configuration: Sendable {
    public var endpoint: Endpoint
    public var tls: ClientTLS?
    /// Seconds for connecting, and for each reply.
    public var timeout: Double
    /// Idle connections kept for the next call.
    public var maxIdle: Int
    /// Requests in flight on one connection in `searchMany`.
    public var pipelineDepth: Int
    /// The local address to connect from, if not the kernel's choice.
    public var source: SocketAddress?
    /// The largest reply content taken.
    public var maxReplyBytes: Int
    /// Above any reply searchd sends with its default max-output-bytes, far below what
    /// would exhaust a client's memory (the Python client's default too).
    public static let defaultMaxReplyBytes = 16 << 20
    /// Told of every request written and every reply read (`searchctl -v`).
    public var trace: (@Sendable (Trace) -> Void)?

    public init(
      endpoint: Endpoint, tls: ClientTLS? = nil, timeout: Double = 5, maxIdle: Int = 10, pipelineDepth: Int = 16,
      source: SocketAddress? = nil, maxReplyBytes: Int = defaultMaxReplyBytes, trace: (@Sendable (Trace) -> Void)? = nil
    ) {
      self.maxReplyBytes = maxReplyBytes
      self.endpoint = endpoint
      self.tls = tls
      self.timeout = timeout
      self.maxIdle = maxIdle
      self.pipelineDepth = pipelineDepth
      self.source = source
      self.trace = trace
    }
  }

  public enum Trace: Sendable {
    case sent([UInt8], to: String)
    case received(Frame, from: String)
  }

  public let configuration: Configuration
  private struct Pool {
    var idle: [Connection] = []
    /// Learned from a server that closes after each reply (the tutorial's).
    var onePerConnection = false
  }
  private let pool = Locked(Pool())

  public init(_ configuration: Configuration) {
    self.configuration = configuration
  }

  deinit { close() }

  /// The value stored under `key`, or nil when the index has none.
  public func search(_ key: String) async throws(ClientError) -> String? {
    try Replies.search(try await request(Request.encodeSearch(key)), key: key)
  }

  /// Many searches pipelined over one connection; the answers in the keys' order.
  public func searchMany(_ keys: [String]) async throws(ClientError) -> [String?] {
    let frames = try await requests(keys.map { Request.encodeSearch($0) })
    var out: [String?] = []
    out.reserveCapacity(keys.count)
    for (frame, key) in zip(frames, keys) { out.append(try Replies.search(frame, key: key)) }
    return out
  }

  /// A binary request: the reply's content (searchd answers with its first ten bytes).
  public func binary(_ data: [UInt8], contentType: String = "binary/custom-client-binary-type")
    async throws(ClientError) -> [UInt8]
  {
    try Replies.binary(try await request(Request.encodeBinary(data, contentType: contentType)))
  }

  /// The keys `text` probably meant: those with a prefix within `typos` typos of it (the
  /// server's default by length when nil), at most `limit` (10 when nil), best first.
  public func suggest(_ text: String, limit: Int? = nil, typos: Int? = nil) async throws(ClientError) -> Suggestions {
    try Replies.suggestions(try await request(Request.encodeSuggest(text, limit: limit, typos: typos)))
  }

  /// The daemon's counters, as `searchctl status --json` prints them (local peers only).
  public func stats() async throws(ClientError) -> [String: Any] {
    try Replies.stats(try await request(Request.encodeSearch("", action: "stats")))
  }

  /// Whether the server answers this protocol; throws when it cannot be reached.
  public func ping() async throws(ClientError) {
    try Replies.ping(try await request(Replies.pingRequest))
  }

  /// Any one request's reply, uninterpreted: for tools that show the frame itself.
  public func request(_ bytes: [UInt8]) async throws(ClientError) -> Frame {
    try await requests([bytes])[0]
  }

  /// Replies to `batch`, in order, pipelined on pooled connections.
  public func requests(_ batch: [[UInt8]]) async throws(ClientError) -> [Frame] {
    if batch.isEmpty { return [] }
    return try await offThread { () throws(ClientError) in try self.exchange(batch) }
  }

  /// Closes the idle connections; calls still running finish on theirs.
  public func close() {
    let idle = pool.withLock { p in
      defer { p.idle = [] }
      return p.idle
    }
    for c in idle { c.close() }
  }

  private func exchange(_ batch: [[UInt8]]) throws(ClientError) -> [Frame] {
    var run = PipelineRun(
      batch, depth: configuration.pipelineDepth, onePerConnection: pool.withLock { $0.onePerConnection })
    var connection: Connection?
    defer { if let connection { connection.close() } }
    while !run.isDone {
      let c: Connection
      if let connection {
        c = connection
      } else {
        c = try checkOut()
        connection = c
      }
      do {
        try write(run.firstBatch(), on: c)
        while !run.isDone {
          let frame = try c.receiveFrame()
          configuration.trace?(.received(frame, from: c.target))
          switch run.answered(frame) {
          case .write(let bytes): try write(bytes, on: c)
          case .reconnect:
            c.close()
            connection = nil
          }
          if connection == nil { break }
        }
      } catch .closedBeforeReply(let target) {
        c.close()
        connection = nil
        try run.closed(target: target)
      }
    }
    if run.onePerConnection { pool.withLock { $0.onePerConnection = true } }
    if let c = connection, !run.onePerConnection {
      connection = nil
      checkIn(c)
    }
    return run.replies
  }

  private func write(_ bytes: [UInt8], on c: Connection) throws(ClientError) {
    if bytes.isEmpty { return }
    configuration.trace?(.sent(bytes, to: c.target))
    try c.send(bytes)
  }

  private func checkOut() throws(ClientError) -> Connection {
    while let c = pool.withLock({ $0.idle.popLast() }) {
      if c.isReusable { return c }
      c.close()
    }
    return try Connection.connect(
      to: configuration.endpoint, tls: configuration.tls, timeout: configuration.timeout,
      source: configuration.source, maxReplyBytes: configuration.maxReplyBytes)
  }

  /// Kept without a look at the socket: checkOut looks, at the moment it matters (a server
  /// may close an idle connection any time after this).
  private func checkIn(_ c: Connection) {
    let kept = pool.withLock { p in
      guard p.idle.count < configuration.maxIdle else { return false }
      p.idle.append(c)
      return true
    }
    if !kept { c.close() }
  }
}

/// Runs blocking I/O on one of `BlockingThreads`, so the caller's executor is not held and
/// no call waits for another's thread.
public func offThread<T: Sendable>(_ work: @escaping @Sendable () throws(ClientError) -> T) async throws(ClientError)
  -> T
{
  let result: Result<T, ClientError> = await withCheckedContinuation { continuation in
    BlockingThreads.shared.run {
      continuation.resume(returning: Result { () throws(ClientError) -> T in try work() })
    }
  }
  return try result.get()
}
