import SearchdWire
import TestSupport
import Testing

/// The codec against the reference server's captured bytes.
@Suite(.timeLimit(.minutes(10))) struct VectorTests {
  /// Decodes the request, answers it as the daemon does, and compares with the capture.
  private func answer(_ request: [UInt8]) throws -> [UInt8] {
    var reader = RequestReader()
    guard case .request(_, let asked) = Reference.daemonRead(request, reader: &reader) else {
      throw WireError(.badRequest, "not a request", closesConnection: true)
    }
    switch asked {
    case .search(let q):
      let hits: [String: String] = [
        "morpheus": "Follow the white rabbit. \u{1F430}",
        "ring": "In the caves beneath the Misty Mountains. \u{1F48D}",
        "\u{1F436}": "\u{1F43E} Playing ball! \u{1F3D0}",
      ]
      let key = String(decoding: q, as: UTF8.self)
      return hits[key].map(Reply.result) ?? Reply.noMatch(query: q)
    case .unknownAction(let a): return Reply.invalidAction(String(decoding: a, as: UTF8.self))
    case .binary(let c): return Reply.binary(echoing: c)
    case .stats, .suggest: throw WireError(.notPermitted, "the tutorial has no such action", closesConnection: false)
    case .refused(let error): throw error
    }
  }

  @Test(arguments: protocolVectors)
  func replyIsByteIdentical(_ v: Vector) throws {
    #expect(try answer(v.request) == v.response)
  }

  @Test(arguments: protocolVectors)
  func responseDecodesByteByByte(_ v: Vector) {
    var buffer = InputBuffer()
    var decoder = FrameDecoder()
    var frames: [Frame] = []
    for (i, b) in v.response.enumerated() {
      buffer.append([b])
      switch decoder.decode(&buffer) {
      case .needMore: #expect(i < v.response.count - 1, "needMore after the last byte")
      case .frame(let f): frames.append(f)
      case .failed(let e): Issue.record("failed: \(e)")
      }
    }
    #expect(frames.count == 1)
    #expect(
      frames.first.map {
        Message.encode(
          contentType: $0.header.contentType!, contentEncoding: $0.header.contentEncoding!, content: $0.content)
      } == v.response)
  }

  @Test func everyVectorInOneBuffer() {
    var buffer = InputBuffer()
    for v in protocolVectors { buffer.append(v.request) }
    var decoder = FrameDecoder()
    var count = 0
    while case .frame(let f) = decoder.decode(&buffer) {
      #expect(
        Message.encode(
          contentType: f.header.contentType!, contentEncoding: f.header.contentEncoding!, content: f.content,
          byteorder: f.header.byteorder!) == protocolVectors[count].request)
      count += 1
    }
    #expect(count == protocolVectors.count)
    #expect(buffer.isEmpty)
  }

  @Test func splitsAtEveryPointGiveTheSameFrames() {
    let stream = protocolVectors.prefix(3).flatMap(\.request)
    for cut in stride(from: 1, to: stream.count, by: 7) {
      var buffer = InputBuffer()
      var decoder = FrameDecoder()
      var frames = 0
      for part in [Array(stream[..<cut]), Array(stream[cut...])] {
        buffer.append(part)
        while case .frame = decoder.decode(&buffer) { frames += 1 }
      }
      #expect(frames == 3, "cut at \(cut)")
    }
  }

  @Test func tutorialClientRequestsEncodeAsCaptured() {
    #expect(Request.encodeSearch("morpheus") == protocolVectors[0].request)
    #expect(Request.encodeSearch("find", action: "find").count > 0)
    #expect(
      Request.encodeBinary(Array("binary\u{1F603}".utf8)) == protocolVectors.first { $0.name == "binary" }!.request)
  }
}
