import SearchdWire
import TestSupport
import Testing

/// The header rules of PROTOCOL.md and RELIABILITY.md, one bad header at a time.
@Suite(.timeLimit(.minutes(10))) struct HeaderRuleTests {
  private func frameBytes(header: String, content: [UInt8] = []) -> [UInt8] {
    let h = Array(header.utf8)
    return [UInt8(h.count >> 8), UInt8(h.count & 0xFF)] + h + content
  }

  private func decode(_ bytes: [UInt8], limits: WireLimits = .default) -> FrameDecoder.Result {
    var b = InputBuffer()
    b.append(bytes)
    var d = FrameDecoder(limits: limits)
    return d.decode(&b)
  }

  private func code(_ bytes: [UInt8], limits: WireLimits = .default) -> WireError.Code? {
    if case .failed(let e) = decode(bytes, limits: limits) {
      #expect(e.closesConnection)
      return e.code
    }
    return nil
  }

  private let good = #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "#

  @Test func zeroLengthHeader() { #expect(code([0, 0]) == .badHeaderLength) }

  @Test func oversizedHeaderIsRefusedFromTheTwoLengthBytesAlone() {
    #expect(code([0xFF, 0xFF]) == .headerTooLarge)
    #expect(code(Array("GET / HTTP/1.1\r\n".utf8)) == .headerTooLarge)
    #expect(code([0x01, 0x00], limits: WireLimits(maxHeaderBytes: 255)) == .headerTooLarge)
  }

  @Test func truncatedHeaderNeedsMore() {
    #expect(decode([0, 200] + Array(repeating: 0x20, count: 20)) == .needMore)
  }

  @Test func headerNotUTF8() {
    #expect(code(frameBytes(header: "\u{FF}").map { $0 == 0xC3 ? 0xFF : $0 }) == .badHeader)
  }

  @Test(arguments: ["hello", "[]", "\"s\"", "42", "null", "{", "{\"a\": 1,}", "{'a': 1}", "{\"a\": NaN}"])
  func headerNotAnObject(_ text: String) { #expect(code(frameBytes(header: text)) == .badHeader) }

  @Test(arguments: Header.requiredKeys)
  func missingKey(_ key: String) {
    var fields = [
      "\"byteorder\": \"little\"", "\"content-type\": \"text/json\"", "\"content-encoding\": \"utf-8\"",
      "\"content-length\": 0",
    ]
    fields.removeAll { $0.hasPrefix("\"\(key)\"") }
    let bytes = frameBytes(header: "{" + fields.joined(separator: ", ") + "}")
    guard case .failed(let e) = decode(bytes) else {
      Issue.record("accepted a header without \(key)")
      return
    }
    #expect(e.code == .missingHeader)
    #expect(e.detail.contains(key))
  }

  @Test func duplicateContentLength() {
    #expect(code(frameBytes(header: good + #""content-length": 2, "content-length": 0}"#)) == .badHeader)
  }

  @Test(arguments: [
    "-1", "1.5", "1e3", "10.0", "\"10\"", "true", "null", "99999999999999999999", "1e300", "9223372036854775808",
  ])
  func badContentLength(_ literal: String) {
    #expect(code(frameBytes(header: good + "\"content-length\": \(literal)}")) == .badContentLength)
  }

  @Test func contentOverTheLimitIsRefusedBeforeItArrives() {
    let limits = WireLimits(maxContentLength: 100)
    #expect(code(frameBytes(header: good + "\"content-length\": 101}"), limits: limits) == .contentTooLarge)
    #expect(decode(frameBytes(header: good + "\"content-length\": 100}"), limits: limits) == .needMore)
  }

  @Test func deepNestingIsRefusedWithoutOverflow() {
    let deep = String(repeating: "[", count: 30_000)
    #expect(code(frameBytes(header: deep), limits: WireLimits(maxHeaderBytes: 65535)) == .badHeader)
  }

  @Test func nonStringHeaderValuesKeepTheFraming() throws {
    let bytes = frameBytes(
      header: #"{"byteorder": 1, "content-type": "text/json", "content-encoding": "utf-8", "content-length": 2}"#,
      content: Array("{}".utf8))
    guard case .frame = decode(bytes) else {
      Issue.record("no frame")
      return
    }
    var reader = RequestReader()
    guard case .request(let length, .refused(let error)) = Reference.daemonRead(bytes, reader: &reader) else {
      Issue.record("not refused")
      return
    }
    #expect(length == bytes.count)
    #expect(error.code == .badHeader)
    #expect(!error.closesConnection)
  }

  @Test func decoderStaysFailed() {
    var b = InputBuffer()
    b.append([0, 0] + protocolVectorsFirstRequest())
    var d = FrameDecoder()
    #expect(d.decode(&b) == .failed(WireError(.badHeaderLength, "the JSON header length is 0", closesConnection: true)))
    if case .frame = d.decode(&b) { Issue.record("decoded past a framing error") }
  }

  private func protocolVectorsFirstRequest() -> [UInt8] { Request.encodeSearch("morpheus") }
}
