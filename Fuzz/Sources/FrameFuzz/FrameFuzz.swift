import SearchdConfig
import SearchdIndex
import SearchdServer
import SearchdWire

/// One fuzz input: the first byte picks how the rest is split into reads, so partial
/// reads are covered; the rest is the byte stream a peer sends. It drives the daemon's
/// own connection state machine (decoder, accelerator, handler, output queue) and checks
/// that the stream whole and in chunks gives the same bytes back and the same close,
/// that those bytes are what decoding each message alone and answering it gives (so the
/// accelerator changes nothing), that every reply is a well-formed frame, and that
/// nothing traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let chunk = Int(data[0] % 16) + 1
  let stream = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let whole = serve(stream, chunkSize: max(stream.count, 1))
  let chunked = serve(stream, chunkSize: chunk)
  precondition(whole == chunked, "whole and chunked reads disagree")
  precondition(whole.bytes == expected(stream), "the state machine and one-message decoding disagree")
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
  var state = ConnectionState(wire: wire, limits: limits, now: 0)
  var memo = FrameDecoder.HeaderMemo()
  var out = Outcome()
  func turn() {
    repeat {
      state.beginTurn(now: 0)
      state.serve(now: 0, memo: &memo) { handler.answer($0, trusted: true).answer }
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

/// The oracle: each message decoded whole by the full decoder and answered, up to the
/// first framing error, whose reply ends the stream.
func expected(_ stream: [UInt8]) -> [UInt8] {
  var buffer = InputBuffer()
  buffer.append(stream)
  var decoder = FrameDecoder(limits: wire)
  var out: [UInt8] = []
  while true {
    switch decoder.decode(&buffer) {
    case .needMore: return out
    case .frame(let f):
      let answered = handler.answer(.frame(f), trusted: true)
      precondition(answered.error.map { !$0.closesConnection } ?? true, "a request-level error must keep the framing")
      let reply = answered.answer.copiedBytes
      checkFrame(reply)
      out += reply
    case .failed(let e):
      out += Reply.error(e)
      return out
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
