import SearchdConfig
import SearchdIndex
import SearchdServer
import SearchdWire
import TestSupport

/// One fuzz input: the first byte picks how the rest is split into reads, so partial
/// reads are covered; the rest is the byte stream a peer sends. It drives the daemon's
/// own connection state machine (request reader, handler, output queue) and checks that
/// the stream whole and in chunks gives the same bytes back and the same close, that those
/// bytes are what the tests' reference rules (TestSupport's `Reference`) make of each
/// message, answered, that every reply is a well-formed frame, and that nothing traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let chunk = Int(data[0] % 16) + 1
  let stream = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let whole = serve(stream, chunkSize: max(stream.count, 1))
  let chunked = serve(stream, chunkSize: chunk)
  precondition(whole == chunked, "whole and chunked reads disagree")
  precondition(whole.bytes == expected(stream), "the daemon's reader and the reference disagree")
  return 0
}

let wire = WireLimits(maxHeaderBytes: 1024, maxContentLength: 2048)
let handler = RequestHandler(
  table: .builtIn, limits: wire, counters: RequestCounters(),
  statsReport: { _ in Reply.result("stats") })

struct Outcome: Equatable {
  var bytes: [UInt8] = []
  var close: ConnectionState.CloseReason?
}

/// The stream through a `ConnectionState`, as a connection reads it, every reply taken at once.
func serve(_ stream: [UInt8], chunkSize: Int) -> Outcome {
  var limits = ConnectionLimits()
  limits.requestsPerWakeup = 7
  var state = ConnectionState(limits: limits, now: 0)
  var reader = RequestReader(limits: wire)
  var out = Outcome()
  func turn() {
    repeat {
      state.beginTurn(now: 0)
      state.serve(now: 0, reader: &reader) { handler.answer($0, trusted: true).answer }
      state.output.forEachPending { out.bytes += $0 }
      let n = state.output.pendingBytes
      state.output.discard(n)
      state.didWrite(n, now: 0)
    } while state.yielded
  }
  var offset = 0
  while offset < stream.count && state.wantsInput {
    let end = min(offset + chunkSize, stream.count)
    state.input.append(stream[offset..<end])
    offset = end
    state.didRead(now: 0)
    turn()
  }
  state.didReachEndOfInput()
  turn()
  if case .close(let reason) = state.nextAction() { out.close = reason }
  return out
}

/// The oracle: each message read whole by the reference rules and answered, up to the
/// first framing error, whose reply ends the stream.
func expected(_ stream: [UInt8]) -> [UInt8] {
  var rest = stream[...]
  var out: [UInt8] = []
  while true {
    switch Reference.read(Array(rest), limits: wire) {
    case .incomplete: return out
    case .failed(let e):
      out += Reply.error(e)
      return out
    case .request(let length, let asked):
      // Each answer copied out while the bytes it points into are alive.
      let reply: [UInt8]
      switch asked {
      case .search(let q): reply = q.withUnsafeBytes { handler.answer(.search($0), trusted: true).answer.copiedBytes }
      case .binary(let c): reply = c.withUnsafeBytes { handler.answer(.binary($0), trusted: true).answer.copiedBytes }
      case .unknownAction(let a):
        reply = a.withUnsafeBytes { handler.answer(.unknownAction($0), trusted: true).answer.copiedBytes }
      case .stats: reply = handler.answer(.stats, trusted: true).answer.copiedBytes
      case .suggest(let text, let limit, let typos):
        reply = text.withUnsafeBytes {
          handler.answer(.suggest(SuggestRequest(text: $0, limit: limit, typos: typos)), trusted: true).answer
            .copiedBytes
        }
      case .refused(let e):
        precondition(!e.closesConnection, "a request-level error must keep the framing")
        reply = Reply.error(e)
      }
      checkFrame(reply)
      out += reply
      rest = rest.dropFirst(length)
    }
  }
}

/// Every reply must itself be a valid frame.
func checkFrame(_ reply: [UInt8]) {
  var b = InputBuffer()
  b.append(reply)
  var d = FrameDecoder(limits: WireLimits(maxHeaderBytes: 65535, maxContentLength: 1 << 20))
  guard case .frame = d.decode(&b), b.isEmpty else { preconditionFailure("searchd would send a malformed reply") }
}
