import Foundation
import SearchdWire
import TestSupport
import Testing

/// The decoder's accelerator must agree with its full decode on everything it accepts.
@Suite(.timeLimit(.minutes(10))) struct PlainRequestTests {
  /// One memo across the checks of a test, as a loop keeps one across requests: a
  /// remembered header must never stand in for different bytes.
  private final class Memo: @unchecked Sendable { var value = FrameDecoder.HeaderMemo() }
  private let memo = Memo()

  /// The accelerator's reading: the frame's length and the request, as the full parse would give it.
  private func quick(_ bytes: [UInt8], limits: WireLimits = .default) -> (length: Int, request: Request)? {
    bytes.withUnsafeBytes { raw in
      FrameDecoder.plainRequest(in: raw, limits: limits, memo: &memo.value).flatMap {
        (r: FrameDecoder.PlainRequest) -> (length: Int, request: Request)? in
        switch r.kind {
        case .search(let q): return (r.frameLength, Request.search(query: Array(raw[q])))
        case .binary(let c): return (r.frameLength, Request.binary(content: Array(raw[c])))
        case .resolvedSearch:
          return (r.frameLength, Request.search(query: Array(memo.value.resolvedQuery)))
        case .resolvedUnknownAction:
          return (r.frameLength, Request.unknownAction(String(decoding: memo.value.resolvedAction, as: UTF8.self)))
        case .refused: return nil
        }
      }
    }
  }

  /// The full decoder's reading of the first message in `bytes`: its length and request.
  private func full(_ bytes: [UInt8], limits: WireLimits = .default) -> (length: Int, request: Request)? {
    var input = InputBuffer()
    input.append(bytes)
    var decoder = FrameDecoder(limits: limits)
    guard case .frame(let f) = decoder.decode(&input), let r = try? Request.parse(f, limits: limits) else {
      return nil
    }
    return (bytes.count - input.readableCount, r)
  }

  /// The refusal the accelerator answers `bytes` with, if it refuses them.
  private func refusal(_ bytes: [UInt8], limits: WireLimits = .default) -> RequestRefusal? {
    bytes.withUnsafeBytes { raw in
      guard case .refused(let r)? = FrameDecoder.plainRequest(in: raw, limits: limits, memo: &memo.value)?.kind
      else { return nil }
      return r
    }
  }

  /// The full decoder's error for the first message in `bytes`, if its request is refused.
  private func fullError(_ bytes: [UInt8], limits: WireLimits = .default) -> WireError? {
    var input = InputBuffer()
    input.append(bytes)
    var decoder = FrameDecoder(limits: limits)
    guard case .frame(let f) = decoder.decode(&input) else { return nil }
    do throws(WireError) {
      _ = try Request.parse(f, limits: limits)
      return nil
    } catch {
      return error
    }
  }

  private func expectAgreement(_ bytes: [UInt8], limits: WireLimits = .default) {
    if let r = refusal(bytes, limits: limits) {
      #expect(fullError(bytes, limits: limits) == r.error, "refusal of \(bytes)")
      return
    }
    guard let q = quick(bytes, limits: limits) else { return }
    let f = full(bytes, limits: limits)
    #expect(f?.length == q.length, "frame length for \(bytes)")
    #expect(f?.request == q.request, "request for \(bytes)")
  }

  @Test func plainSearchesAreRecognised() {
    for v in protocolVectors where ["search morpheus", "search ring", "search miss"].contains(v.name) {
      #expect(quick(v.request) != nil, "\(v.name)")
      expectAgreement(v.request)
    }
    let reordered = Message.encode(
      contentType: "text/json", contentEncoding: "utf-8", content: Array(#"{ "value":"ring" ,"action":"search"}"#.utf8))
    #expect(quick(reordered)?.request == .search(query: Array("ring".utf8)))
    expectAgreement(reordered)
  }

  /// Binary requests of any size and content type but JSON, whatever their encoding.
  /// Queries in UTF-8 (the tutorial's client sends them unescaped, 🐶 included) are
  /// recognised in place; bytes that are not well-formed UTF-8 go to the full decoder.
  @Test func utf8QueriesAreRecognisedAndMalformedOnesAreNot() {
    for query in ["caf\u{E9}", "\u{1F436}", "\u{7F}", "日本語 and ascii", String(repeating: "\u{10FFFF}", count: 100)] {
      for content in [
        #"{"action": "search", "value": ""#, #"{"value":""#,
      ] {
        let tail = content.hasPrefix(#"{"value"#) ? #"","action":"search"}"# : #""}"#
        let bytes = Message.encode(
          contentType: "text/json", contentEncoding: "utf-8", content: Array((content + query + tail).utf8))
        #expect(quick(bytes)?.request == .search(query: Array(query.utf8)), "\(query)")
        expectAgreement(bytes)
      }
    }
    let malformed: [[UInt8]] = [
      [0xC3], [0xC3, 0x28], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80],
      [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFF], [0x61, 0x80],
    ]
    for bad in malformed {
      let content = Array(#"{"action": "search", "value": ""#.utf8) + bad + Array(#""}"#.utf8)
      let bytes = Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: content)
      #expect(quick(bytes) == nil, "\(bad)")
    }
  }

  /// Queries written with escapes are recognised in place and resolve to what the full
  /// decoder makes of them.
  @Test func escapedQueriesAreRecognised() {
    for (written, query) in [
      (#"a\"b"#, "a\"b"), (#"\u00e9"#, "\u{E9}"), (#"\ud83d\udc36"#, "\u{1F436}"), (#"tab\tand\\"#, "tab\tand\\"),
      (#"\/\b\f\n\r"#, "/\u{8}\u{C}\n\r"), (#"\u0000"#, "\u{0}"), (#"caf\u00e9 and café"#, "caf\u{E9} and caf\u{E9}"),
    ] {
      let content = Array(#"{"action": "search", "value": ""#.utf8) + Array(written.utf8) + Array(#""}"#.utf8)
      let bytes = Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: content)
      #expect(quick(bytes)?.request == .search(query: Array(query.utf8)), "\(written)")
      expectAgreement(bytes)
    }
  }

  /// Searches in UTF-16 and UTF-32 as Python's codecs write them (the bare names with a
  /// byte-order mark, either order) are transcoded and agree with the full decoder;
  /// malformed ones are left to it.
  @Test func utf16And32SearchesAreRecognised() {
    func units16(_ text: String, big: Bool) -> [UInt8] {
      text.utf16.flatMap { big ? [UInt8($0 >> 8), UInt8($0 & 0xFF)] : [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    }
    func units32(_ text: String, big: Bool) -> [UInt8] {
      text.unicodeScalars.flatMap { s -> [UInt8] in
        let v = s.value
        let le = [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
        return big ? le.reversed() : le
      }
    }
    for query in ["morpheus", "caf\u{E9}", "\u{1F436} dog", #"say "hi" \ "#, ""] {
      var json: [UInt8] = []
      JSONWriter.appendObject(["value": .string(query), "action": .string("search")], to: &json)
      let text = String(decoding: json, as: UTF8.self)
      let spellings: [(String, [UInt8])] = [
        ("utf-16", [0xFF, 0xFE] + units16(text, big: false)), ("utf-16", [0xFE, 0xFF] + units16(text, big: true)),
        ("utf-16", units16(text, big: false)), ("utf-16-le", units16(text, big: false)),
        ("utf-16-be", units16(text, big: true)), ("utf-32", [0xFF, 0xFE, 0, 0] + units32(text, big: false)),
        ("utf-32", [0, 0, 0xFE, 0xFF] + units32(text, big: true)), ("utf-32-le", units32(text, big: false)),
        ("utf-32-be", units32(text, big: true)),
      ]
      for (name, content) in spellings {
        let bytes = Message.encode(contentType: "text/json", contentEncoding: name, content: content)
        #expect(quick(bytes)?.request == .search(query: Array(query.utf8)), "\(name): \(query)")
        expectAgreement(bytes)
      }
    }
    let prefix16 = units16(#"{"action": "search", "value": ""#, big: false)
    let suffix16 = units16(#""}"#, big: false)
    let malformed: [(String, [UInt8])] = [
      ("utf-16", prefix16 + [0x00, 0xD8, 0x61, 0x00] + suffix16),  // a high surrogate, then "a"
      ("utf-16", prefix16 + [0x00, 0xDC] + suffix16),  // a lone low surrogate
      ("utf-16-le", prefix16 + [0x61] + suffix16),  // an odd length
      (
        "utf-32-le",
        units32(#"{"action": "search", "value": ""#, big: false) + [0, 0, 0x11, 0] + units32(#""}"#, big: false)
      ),
      (
        "utf-32-le",
        units32(#"{"action": "search", "value": ""#, big: false) + [0, 0xD8, 0, 0] + units32(#""}"#, big: false)
      ),
    ]
    for (name, content) in malformed {
      let bytes = Message.encode(contentType: "text/json", contentEncoding: name, content: content)
      #expect(quick(bytes) == nil, "\(name): \(content)")
      #expect(full(bytes) == nil, "the full decoder refuses it too")
    }
  }

  /// Actions other than search and stats, written plainly, are answered in place, as
  /// the full decoder would answer them; stats, and escaped or odd ones, are left to it.
  @Test func unknownActionsAreRecognised() {
    for content in [
      #"{"action": "find", "value": "x"}"#, #"{"value":"a\u00e9","action":"frobnicate"}"#, #"{"action": "x"}"#,
      #"{ "action" : "" , "value" : "" }"#, #"{"action": "Search", "value": "morpheus"}"#,
    ] {
      let bytes = Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array(content.utf8))
      guard case .unknownAction? = quick(bytes)?.request else {
        Issue.record("\(content) was not recognised")
        continue
      }
      expectAgreement(bytes)
    }
    for content in [
      #"{"action": "stats", "value": ""}"#, #"{"action": "fi\u006ed", "value": "x"}"#,
      #"{"action": "find", "value": "\x"}"#, #"{"action": "find", "action": "x"}"#,
    ] {
      // The general reader's, where not the full decoder's (stats).
      let bytes = Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array(content.utf8))
      expectAgreement(bytes)
    }
  }

  /// The validator agrees with the standard library's on every short sequence of
  /// interesting bytes and on random ones.
  @Test func utf8ValidationAgreesWithTheStandardLibrary() {
    let interesting: [UInt8] = [
      0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
      0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
    ]
    // Disagreements collected and expected once: an expectation per case made this test
    // minutes long under ThreadSanitizer.
    var disagreements: [[UInt8]] = []
    func check(_ bytes: [UInt8]) {
      let ours = bytes.withUnsafeBytes { UTF8Validation.isValid($0) }
      if ours != (String(validating: bytes, as: UTF8.self) != nil) { disagreements.append(bytes) }
    }
    for a in interesting {
      for b in interesting {
        for c in interesting {
          check([a, b, c])
          for d in [0x80, 0xBF, 0x41] as [UInt8] { check([a, b, c, d]) }
        }
      }
    }
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
      check((0..<Int.random(in: 0...24, using: &rng)).map { _ in interesting.randomElement(using: &rng)! })
    }
    #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
  }

  @Test func plainBinaryRequestsAreRecognised() {
    for v in protocolVectors where v.name.hasPrefix("binary") {
      #expect(quick(v.request) != nil, "\(v.name)")
      expectAgreement(v.request)
    }
    for size in [0, 1, 9, 10, 11, 100, 4096, 70_000] {
      for (type, encoding) in [
        ("binary/custom-client-binary-type", "binary"), ("text/plain", "utf-16"), ("image/png", "x"),
      ] {
        let content = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let bytes = Message.encode(contentType: type, contentEncoding: encoding, content: content)
        #expect(quick(bytes)?.request == .binary(content: content), "\(type) of \(size) bytes")
        expectAgreement(bytes)
      }
    }
  }

  /// Content the narrow scan does not take is read by the general reader, with the full
  /// decoder's outcome: the request, or the refusal; stats is left to the full decoder.
  @Test(arguments: [
    (#"{"action": "search", "value": "\ud800"}"#, RequestRefusal.notJSON),
    (#"{"action": "search", "value": "\x"}"#, .notJSON), (#"{"action": "search", "value": "a\"}"#, .notJSON),
    (#"{"action": "search", "value": "\udc00\ud800"}"#, .notJSON), ("not json", .notJSON), ("", .notJSON),
    (#"{"action": "search", "value": "x"} x"#, .notJSON), ("[1]", .notAnObject), ("7", .notAnObject),
    (#""action""#, .notAnObject), ("{}", .noAction), (#"{"value": "x"}"#, .noAction),
    (#"{"action": 7, "value": "x"}"#, .actionNotAString), (#"{"action": ["search"]}"#, .actionNotAString),
    (#"{"action": "search"}"#, .searchWithoutValue), (#"{"action": "search", "value": 7}"#, .searchWithoutValue),
    (#"{"action": "search", "value": "x", "value": null}"#, .searchWithoutValue),
    (#"{"action": "search", "value": {"a": [1, 2.5e3, true, false, null, "\u00e9"]}}"#, .searchWithoutValue),
  ])
  func refusedContentIsTheFullDecodersRefusal(_ content: String, _ refused: RequestRefusal) {
    let bytes = Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array(content.utf8))
    #expect(refusal(bytes) == refused, "\(content)")
    #expect(fullError(bytes) == refused.error, "\(content)")
  }

  @Test(arguments: [
    (#"{"action": "search", "value": "x", "value": "y"}"#, Request.search(query: Array("y".utf8))),
    (#"{"action": "find", "action": "search", "value": "x"}"#, .search(query: Array("x".utf8))),
    (#"{"action": "search", "value": "x", "extra": [1, {"deep": {}}]}"#, .search(query: Array("x".utf8))),
    (#"{"act\u0069on": "search", "value": "x"}"#, .search(query: Array("x".utf8))),
    (#"{"action": "fi\u006ed", "value": 7}"#, .unknownAction("find")),
    (#"{"action": "search", "action": "find"}"#, .unknownAction("find")),
  ])
  func otherContentIsReadAsTheFullDecoderReadsIt(_ content: String, _ request: Request) {
    let bytes = Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array(content.utf8))
    #expect(quick(bytes)?.request == request, "\(content)")
    expectAgreement(bytes)
  }

  @Test func statsAndBadlyEncodedContentAreLeftToTheFullDecoder() {
    for (content, encoding) in [
      (Array(#"{"action": "stats"}"#.utf8), "utf-8"), (Array(#"{"action": "stats"}"#.utf8), "utf-16"),
      ([0x7B, 0x00, 0x00, 0xD8], "utf-16-le"),
    ] {
      let bytes = Message.encode(contentType: "text/json", contentEncoding: encoding, content: content)
      #expect(quick(bytes) == nil && refusal(bytes) == nil, "\(encoding): \(content)")
    }
  }

  @Test(arguments: [
    #"{"byteorder": "little", "content-type": "text/json", "content-encoding": "UTF-16", "content-length": 2}"#,
    #"{"byteorder": 1, "content-type": "text/json", "content-encoding": "utf-8", "content-length": 2}"#,
    #"{"content-type": "text/json", "content-encoding": "utf-8", "content-length": 2}"#,
    #"{"byteorder": "l", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 02}"#,
    #"{"byteorder": "l", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 2.0}"#,
    #"{"byteorder": "l", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 2, "x": 1}"#,
    #"{"byteorder": "l", "byteorder": "l", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 2}"#,
  ])
  func otherHeadersAreLeftToTheFullDecoder(_ header: String) {
    let h = Array(header.utf8)
    #expect(quick([0, UInt8(h.count)] + h + Array("{}".utf8)) == nil)
  }

  /// An unfinished plain request is waited for; one over a limit is the full decoder's to refuse.
  @Test func incompleteOrOverLimitFramesAreLeftToTheFullDecoder() {
    let r = protocolVectors[0].request
    for cut in [0, 1, 2, 50, r.count - 1] {
      #expect(quick(Array(r.prefix(cut))) == nil)
      let outcome = Array(r.prefix(cut)).withUnsafeBytes {
        FrameDecoder.plainOutcome(in: $0, limits: .default, memo: &memo.value)
      }
      #expect(outcome == .incomplete, "cut at \(cut)")
    }
    let tooLarge = r.withUnsafeBytes {
      FrameDecoder.plainOutcome(in: $0, limits: WireLimits(maxHeaderBytes: 50), memo: &memo.value)
    }
    #expect(tooLarge == .other)
    #expect(quick(r, limits: WireLimits(maxHeaderBytes: 50)) == nil)
    #expect(quick(r, limits: WireLimits(maxContentLength: 10)) == nil)
    #expect(quick(r + r)?.length == r.count, "one frame at a time")
    // Lengths too long to be plain are refused without overflowing (the full decoder answers them).
    for literal in ["99999999999999999999", "9223372036854775808", "1234567890"] {
      let h = Array(
        (#"{"byteorder": "l", "content-type": "text/json", "content-encoding": "utf-8", "content-length": "#
          + literal + "}").utf8)
      #expect(quick([0, UInt8(h.count)] + h) == nil)
    }
  }

  /// Every fuzz input and many mutated requests: where the accelerator answers, it agrees.
  @Test func agreesWithTheFullDecoderOnTheCorpusAndOnMutations() throws {
    var inputs = FuzzCorpusDifferentialTests.corpus.compactMap { try? Array(Data(contentsOf: $0).dropFirst()) }
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
      var bytes = protocolVectors.randomElement(using: &rng)!.request
      for _ in 0..<Int.random(in: 1...3, using: &rng) {
        bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
      }
      inputs.append(bytes)
    }
    var matched = 0
    for input in inputs {
      if quick(input) != nil { matched += 1 }
      expectAgreement(input)
    }
    #expect(matched > 100, "mutations that stay plain requests are still recognised")
  }
}
