import SearchdWire

/// One fuzz input: the first byte picks how the rest is split into reads, so
/// partial reads are covered; the rest is the byte stream a peer sends.
/// Checks that feeding the stream whole and in chunks gives the same events,
/// that the hot path's QuickSearch (tried first at each message boundary, as the
/// daemon does) changes nothing, that every frame gets a well-formed reply, and that
/// nothing traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let chunk = Int(data[0] % 16) + 1
  let stream = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let limits = WireLimits(maxHeaderBytes: 1024, maxContentLength: 2048)
  let whole = events(stream, chunkSize: max(stream.count, 1), limits: limits)
  let chunked = events(stream, chunkSize: chunk, limits: limits)
  precondition(whole == chunked, "whole and chunked decoding disagree")
  let quick = events(stream, chunkSize: chunk, limits: limits, quick: true)
  precondition(whole == quick, "the quick path and the full decoder disagree")
  return 0
}

enum Event: Equatable {
  case reply([UInt8])
  case failed(WireError)
}

/// Decodes as a connection does, answering each frame as the daemon would.
func events(_ stream: [UInt8], chunkSize: Int, limits: WireLimits, quick: Bool = false) -> [Event] {
  var buffer = InputBuffer()
  var decoder = FrameDecoder(limits: limits)
  var out: [Event] = []
  var memo = QuickSearch.HeaderMemo()
  var offset = 0
  while offset < stream.count {
    let end = min(offset + chunkSize, stream.count)
    buffer.append(stream[offset..<end])
    offset = end
    decoding: while true {
      if quick && decoder.isAtBoundary && !buffer.isEmpty {
        let m = buffer.withReadableBytes { raw in
          QuickSearch.match(raw, limits: limits, memo: &memo).map { ($0.frameLength, Array(raw[$0.query])) }
        }
        if let (length, query) = m {
          buffer.skip(length)
          out.append(.reply(Reply.noMatch(query: query)))
          continue
        }
      }
      switch decoder.decode(&buffer) {
      case .needMore: break decoding
      case .frame(let f): out.append(.reply(answer(f, limits: limits)))
      case .failed(let e):
        out.append(.failed(e))
        return out
      }
    }
  }
  return out
}

func answer(_ frame: Frame, limits: WireLimits) -> [UInt8] {
  let reply: [UInt8]
  do {
    switch try Request.parse(frame, limits: limits) {
    case .search(let q): reply = Reply.noMatch(query: q)
    case .unknownAction(let a): reply = Reply.invalidAction(a)
    case .binary(let c): reply = Reply.binary(echoing: c)
    case .stats: reply = Reply.result("stats")
    }
  } catch {
    precondition(!error.closesConnection, "a request-level error must keep the framing")
    reply = Reply.error(error)
  }
  // Every reply must itself be a valid frame.
  var b = InputBuffer()
  b.append(reply)
  var d = FrameDecoder(limits: WireLimits(maxHeaderBytes: 65535, maxContentLength: 1 << 20))
  guard case .frame = d.decode(&b), b.isEmpty else { preconditionFailure("searchd would send a malformed reply") }
  return reply
}
