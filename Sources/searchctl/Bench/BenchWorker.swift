import Atomics
import Glibc
import Histogram
import SearchdSystem
import SearchdTLS
import SearchdWire

/// One thread's share of the connections, driven by its own epoll set. Keep-alive
/// connections send `pipeline` requests in one write and wait for as many replies
/// (as redis-benchmark -P does); per-connection ones connect, ask once and close.
final class BenchWorker {
  let plan: BenchPlan
  private let epoll: Epoll
  private let events = EpollEventBuffer(capacity: 256)
  private var conns: [Int32: BenchConnection] = [:]
  private let budget: BenchBudget
  private var stopping = false
  private var sourceIndex: Int

  private(set) var histogram = Histogram<UInt64>(
    highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
  private(set) var completed = 0
  private(set) var failures: [BenchFailure: Int] = [:]
  var handshakes = 0
  var resumed = 0
  /// Requests sent again on a fresh connection (their first closed before any reply byte).
  var retries = 0
  /// With --tls-resume: the session the next connections offer.
  var ticket: TLSSessionTicket?

  init(plan: BenchPlan, connections: Int, firstIndex: Int, budget: BenchBudget) throws(SystemError) {
    self.plan = plan
    self.budget = budget
    self.sourceIndex = firstIndex
    epoll = try Epoll()
    for i in 0..<connections { open(cursor: (firstIndex + i) % plan.requestsAndReplies.count) }
  }

  func fail(_ kind: BenchFailure) { failures[kind, default: 0] += 1 }

  func open(cursor: Int, retry: BenchConnection.Resend? = nil) {
    guard !stopping else { return }
    do {
      let socket = try Socket(family: plan.target.family)
      if !plan.sources.isEmpty {
        let source = plan.sources[sourceIndex % plan.sources.count]
        sourceIndex += 1
        try socket.bindSource(source)
      }
      _ = try socket.connect(to: plan.target)
      let c = BenchConnection(socket: socket, cursor: cursor)
      c.pendingRetry = retry
      conns[socket.descriptor] = c
      try epoll.add(socket.descriptor, events: [.writable], token: UInt64(socket.descriptor))
    } catch {
      fail(.connect)
    }
  }

  func close(_ c: BenchConnection, reopen: Bool) {
    conns[c.socket.descriptor] = nil
    try? epoll.remove(c.socket.descriptor)
    if let tls = c.tls {
      // TLS 1.3 sends its ticket after the handshake: by the first reply it has come.
      if plan.tls?.resume == true, ticket == nil { ticket = tls.resumableSession }
      tls.shutdown()
      c.tls = nil
    }
    c.socket.close()
    if reopen { open(cursor: c.cursor) }
  }

  /// Under --rate, a connection whose next batch is not due yet waits here.
  private var waiting: [BenchConnection] = []

  func startBatch(_ c: BenchConnection) {
    if let retry = c.pendingRetry {
      c.pendingRetry = nil
      c.batch = retry.batch
      c.expected = retry.expected
      c.requestEnds = retry.ends
      c.awaiting = retry.expected.count
      c.sendOffset = 0
      c.sentAt = retry.sentAt
      c.retried = true
      return write(c)
    }
    if let interval = plan.batchIntervalNs {
      let now = MonotonicClock.nanoseconds()
      // Spread the connections' first batches over one interval.
      c.due =
        c.due == 0
        ? now + interval * UInt64(Int(c.socket.descriptor) % plan.connections) / UInt64(plan.connections)
        : c.due + interval
      if c.due > now {
        waiting.append(c)
        // Only replies matter until then; a writable socket would wake the loop for nothing.
        watch(c, [.readable])
        return
      }
    }
    sendBatch(c)
  }

  /// Starts the batches that are due; returns the nanoseconds until the next one.
  private func startDue() -> UInt64 {
    let timeoutNs = UInt64(plan.timeoutMs) * 1_000_000
    guard !waiting.isEmpty else { return timeoutNs }
    let now = MonotonicClock.nanoseconds()
    var next = UInt64.max
    var still: [BenchConnection] = []
    for c in waiting {
      if c.due <= now {
        sendBatch(c)
      } else {
        still.append(c)
        next = min(next, c.due)
      }
    }
    waiting = still
    return next == .max ? timeoutNs : min(timeoutNs, next - now)
  }

  private func sendBatch(_ c: BenchConnection) {
    let n = budget.claim(plan.mode == .keepalive ? plan.pipeline : 1)
    guard n > 0 else {
      close(c, reopen: false)
      return
    }
    // One kind of request: the last batch of the same size is this one again.
    let reusable = plan.requestsAndReplies.count == 1 && c.expected.count == n
    if !reusable {
      c.batch.removeAll(keepingCapacity: true)
      c.expected.removeAll(keepingCapacity: true)
      c.requestEnds.removeAll(keepingCapacity: true)
    }
    for _ in 0..<(reusable ? 0 : n) {
      let (request, reply) = plan.requestsAndReplies[c.cursor]
      c.cursor = (c.cursor + 1) % plan.requestsAndReplies.count
      c.batch += request
      c.expected.append(reply)
      c.requestEnds.append(c.batch.count)
    }
    c.retried = false
    c.awaiting = n
    c.sendOffset = 0
    // Paced: latency counts from when the batch was due, not from when it went out.
    c.sentAt = plan.rate == nil ? MonotonicClock.nanoseconds() : c.due
    write(c)
  }

  func write(_ c: BenchConnection) {
    while c.sendOffset < c.batch.count {
      let step = c.batch.withUnsafeBytes { raw in c.write(UnsafeRawBufferPointer(rebasing: raw[c.sendOffset...])) }
      switch step {
      case .moved(let n): c.sendOffset += n
      case .blocked(let events):
        watch(c, events)
        return
      case .failed:
        lost(c)
        return
      }
    }
    watch(c, [.readable])
  }

  /// One epoll_ctl only when the interest changes: a syscall per request would make the
  /// generator, not the server, the bottleneck.
  func watch(_ c: BenchConnection, _ events: EpollEvents) {
    guard events != c.watching else { return }
    c.watching = events
    try? epoll.modify(c.socket.descriptor, events: events, token: UInt64(c.socket.descriptor))
  }

  private func read(_ c: BenchConnection) {
    let eof = c.readAvailable()
    while c.awaiting > 0 {
      // Fast path: the reply is byte for byte the expected one, so no decoding is needed
      // and checking costs one comparison (it keeps the generator off the critical path).
      if !c.decoding, let expected = c.expected[c.expected.count - c.awaiting] {
        let n = min(expected.count, c.input.readableCount)
        if ReplyCheck.equal(c.input.peek(n), expected.prefix(n)) {
          guard n == expected.count else {
            if eof {
              lost(c)
            }
            return
          }
          c.input.skip(n)
          c.awaiting -= 1
          completed += 1
          histogram.record((MonotonicClock.nanoseconds() - c.sentAt) / 1000)
          continue
        }
      }
      // Any-reply-but-an-error runs (--kind keys): framed by the content length the
      // header names, without the full decoder (which made the client the bottleneck).
      if !c.decoding, c.expected[c.expected.count - c.awaiting] == nil {
        switch ReplyCheck.unparsed(c.input.peek(c.input.readableCount)) {
        case .incomplete:
          if eof {
            lost(c)
          }
          return
        case .reply(let length, let isError):
          c.input.skip(length)
          c.awaiting -= 1
          if isError { fail(.errorReply) } else { completed += 1 }
          histogram.record((MonotonicClock.nanoseconds() - c.sentAt) / 1000)
          continue
        case .other: break
        }
      }
      c.decoding = true
      switch c.decoder.decode(&c.input) {
      case .needMore:
        if eof {
          lost(c)
        }
        return
      case .failed:
        fail(.badFrame)
        close(c, reopen: true)
        return
      case .frame(let f):
        c.decoding = false
        let expected = c.expected[c.expected.count - c.awaiting]
        c.awaiting -= 1
        if ReplyCheck.accepts(f, expected) { completed += 1 } else { fail(expected == nil ? .errorReply : .wrongReply) }
        histogram.record((MonotonicClock.nanoseconds() - c.sentAt) / 1000)
      }
    }
    if plan.mode == .perConnection {
      close(c, reopen: true)
    } else {
      startBatch(c)
    }
  }

  /// Runs until the budget or the time is spent and every connection is done.
  func run() {
    while !conns.isEmpty {
      let wait = startDue()
      if conns.isEmpty { break }
      let n = (try? epoll.wait(into: events, timeoutNs: wait)) ?? 0
      if n == 0 && !waiting.isEmpty { continue }
      if n == 0 {
        // Nothing moved for a whole timeout: count what was outstanding and give up on it.
        for c in Array(conns.values) {
          fail(.timeout)
          close(c, reopen: false)
        }
        break
      }
      for i in 0..<n {
        let (token, ready) = events[i]
        guard let c = conns[Int32(truncatingIfNeeded: token)] else { continue }
        if c.connecting {
          c.connecting = false
          if (try? c.socket.pendingError()) ?? nil != nil {
            fail(.connect)
            close(c, reopen: false)
            continue
          }
          if plan.proxyHeader && !sendProxyHeader(c) {
            fail(.connect)
            close(c, reopen: false)
            continue
          }
          if plan.tls != nil { handshake(c) } else { startBatch(c) }
          continue
        }
        if c.handshaking {
          handshake(c)
          continue
        }
        if ready.contains(.writable) && c.sendOffset < c.batch.count { write(c) }
        if !ready.isDisjoint(with: [.readable, .hangup, .error]) { read(c) }
      }
    }
  }
}
