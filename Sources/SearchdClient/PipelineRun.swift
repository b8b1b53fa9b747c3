import SearchdWire

/// How a batch of requests is sent and answered, without I/O: pipelined up to a depth,
/// resumed on a new connection from the first unanswered request when the server closes,
/// and the retry rule: every request here is a read, so one that meets a close before any
/// reply byte is sent again once, on a new connection; a second such close is an error.
/// The Python client's `_exchange.py` is the same machine.
struct PipelineRun {
  /// Requests written before the first reply is read, at most: enough to keep a connection
  /// busy, little enough that the server's replies never wait on a client still writing.
  static let maxBatchBytes = 64 << 10

  let requests: [[UInt8]]
  let depth: Int
  /// The server answers one request per connection, then closes (the tutorial's does).
  private(set) var onePerConnection: Bool
  private(set) var replies: [Frame] = []
  private var sent = 0
  private var answeredHere = 0
  private var barren = 0

  init(_ requests: [[UInt8]], depth: Int, onePerConnection: Bool) {
    self.requests = requests
    self.depth = max(1, depth)
    self.onePerConnection = onePerConnection
  }

  var isDone: Bool { replies.count == requests.count }

  /// What to write on a new connection: the first unanswered requests, up to the depth.
  mutating func firstBatch() -> [UInt8] {
    let start = replies.count
    let limit = onePerConnection ? 1 : depth
    var end = start
    var size = 0
    while end < requests.count && end - start < limit {
      size += requests[end].count
      if end > start && size > Self.maxBatchBytes { break }
      end += 1
    }
    sent = end
    answeredHere = 0
    return requests[start..<end].flatMap { $0 }
  }

  enum Next: Equatable {
    /// Write these bytes (perhaps none) and read the next reply, unless the run is done.
    case write([UInt8])
    /// The rest goes on a new connection.
    case reconnect
  }

  /// Takes a reply; what to do next on this connection.
  mutating func answered(_ reply: Frame) -> Next {
    replies.append(reply)
    answeredHere += 1
    barren = 0
    if isDone { return .write([]) }
    if onePerConnection { return .reconnect }
    if sent < requests.count && sent - replies.count < depth {
      sent += 1
      return .write(requests[sent - 1])
    }
    return .write([])
  }

  /// The server closed before a byte of the next reply: the rest is resent on a new
  /// connection, unless this is the second connection in a row that answered nothing.
  mutating func closed(target: String) throws(ClientError) {
    if answeredHere == 1 && sent > replies.count {
      // One answer, then a close with more asked: a server of one request per connection.
      onePerConnection = true
    }
    if answeredHere > 0 { return }
    barren += 1
    if barren > 1 { throw .closedBeforeReply(target: target) }
  }
}
