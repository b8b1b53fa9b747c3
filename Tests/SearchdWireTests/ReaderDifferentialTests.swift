import Foundation
import SearchdWire
import TestSupport
import Testing

/// The daemon's one request reader against the reference rules (TestSupport's
/// `Reference`, the tutorial's semantics written plainly): the same request, the same
/// refusal, the same framing error, byte for byte, for every input here, every prefix of
/// it, the fuzz corpus and mutations.
@Suite(.timeLimit(.minutes(10))) struct ReaderDifferentialTests {
  /// One reader across the checks of a test, as a loop keeps one across requests: a
  /// cached header or search shape must never stand in for different bytes.
  private final class Shared: @unchecked Sendable { var reader = RequestReader() }
  private let shared = Shared()

  private func daemon(_ bytes: [UInt8], limits: WireLimits = .default) -> Reference.Read {
    if limits == shared.reader.limits { return Reference.daemonRead(bytes, reader: &shared.reader) }
    var reader = RequestReader(limits: limits)
    return Reference.daemonRead(bytes, reader: &reader)
  }

  private func quick(_ bytes: [UInt8], limits: WireLimits = .default) -> (length: Int, request: Reference.Asked)? {
    guard case .request(let length, let asked) = daemon(bytes, limits: limits) else { return nil }
    return (length, asked)
  }

  /// The reader and the reference agree on `bytes` whole, and on each of its prefixes.
  private func expectAgreement(_ bytes: [UInt8], limits: WireLimits = .default, prefixes: Bool = true) {
    #expect(daemon(bytes, limits: limits) == Reference.read(bytes, limits: limits), "\(bytes)")
    guard prefixes && bytes.count < 300 else { return }
    for cut in 0..<bytes.count {
      let part = Array(bytes.prefix(cut))
      #expect(daemon(part, limits: limits) == Reference.read(part, limits: limits), "\(part)")
    }
  }

  private func refusal(_ bytes: [UInt8]) -> WireError? {
    guard case .request(_, .refused(let error)) = daemon(bytes) else { return nil }
    return error
  }

  @Test func plainSearchesAreRecognised() {
    for v in protocolVectors where ["search morpheus", "search ring", "search miss"].contains(v.name) {
      #expect(quick(v.request) != nil, "\(v.name)")
      expectAgreement(v.request)
    }
    let reordered = Message.encode(
      contentType: "text/json", contentEncoding: "utf-8", content: Array(#"{ "value":"ring" ,"action":"search"}"#.utf8))
    #expect(quick(reordered)?.request == .search(Array("ring".utf8)))
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
        #expect(quick(bytes)?.request == .search(Array(query.utf8)), "\(query)")
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
      #expect(refusal(bytes) == RequestRefusal.notUTF8.error, "\(bad)")
      expectAgreement(bytes)
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
      #expect(quick(bytes)?.request == .search(Array(query.utf8)), "\(written)")
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
        #expect(quick(bytes)?.request == .search(Array(query.utf8)), "\(name): \(query)")
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
      #expect(refusal(bytes)?.code == .badJSON, "\(name): \(content)")
      expectAgreement(bytes)
    }
  }

  /// Actions other than search and stats are answered as the reference answers them.
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
        #expect(quick(bytes)?.request == .binary(content), "\(type) of \(size) bytes")
        expectAgreement(bytes)
      }
    }
  }

  /// Refused content gets the reference's refusal, each from a reply made once.
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
  func refusedContentIsTheReferencesRefusal(_ content: String, _ refused: RequestRefusal) {
    let bytes = Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array(content.utf8))
    let found = bytes.withUnsafeBytes { raw -> RequestRefusal? in
      guard case .request(_, .refused(let r)) = shared.reader.next(in: raw) else { return nil }
      return r
    }
    #expect(found == refused, "\(content)")
    expectAgreement(bytes)
  }

  @Test(arguments: [
    (#"{"action": "search", "value": "x", "value": "y"}"#, Reference.Asked.search(Array("y".utf8))),
    (#"{"action": "find", "action": "search", "value": "x"}"#, .search(Array("x".utf8))),
    (#"{"action": "search", "value": "x", "extra": [1, {"deep": {}}]}"#, .search(Array("x".utf8))),
    (#"{"act\u0069on": "search", "value": "x"}"#, .search(Array("x".utf8))),
    (#"{"action": "fi\u006ed", "value": 7}"#, .unknownAction(Array("find".utf8))),
    (#"{"action": "search", "action": "find"}"#, .unknownAction(Array("find".utf8))),
    (#"{"action": "stats", "value": "x"}"#, .stats),
  ])
  func lastMemberWinsAsInPython(_ content: String, _ request: Reference.Asked) {
    let bytes = Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array(content.utf8))
    #expect(quick(bytes)?.request == request, "\(content)")
    expectAgreement(bytes)
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
  func everyHeaderIsReadAsTheReferenceReadsIt(_ header: String) {
    let h = Array(header.utf8)
    expectAgreement([0, UInt8(h.count)] + h + Array("{}".utf8))
  }

  /// An unfinished request is waited for; one over a limit is refused as soon as the
  /// bytes that break it are here.
  @Test func incompleteOrOverLimitFrames() {
    let r = protocolVectors[0].request
    for cut in [0, 1, 2, 50, r.count - 1] {
      #expect(daemon(Array(r.prefix(cut))) == .incomplete, "cut at \(cut)")
    }
    #expect(daemon(Array(r.prefix(2)), limits: WireLimits(maxHeaderBytes: 50)) != .incomplete)
    expectAgreement(r, limits: WireLimits(maxHeaderBytes: 50))
    expectAgreement(r, limits: WireLimits(maxContentLength: 10))
    #expect(quick(r + r)?.length == r.count, "one frame at a time")
    for literal in ["99999999999999999999", "9223372036854775808", "1234567890"] {
      let h = Array(
        (#"{"byteorder": "l", "content-type": "text/json", "content-encoding": "utf-8", "content-length": "#
          + literal + "}").utf8)
      expectAgreement([0, UInt8(h.count)] + h)
    }
  }

  /// The cached search shape stands in only for bytes that read the same: after one
  /// search is learned, requests that keep its bytes around a different value (plain,
  /// escaped, malformed, or breaking out of the string) read as the reference reads them.
  @Test func theLearnedSearchShapeIsACacheOfTheReader() {
    let around = (#"{ "value" : ""#, #"", "action": "search", "n": [1] }"#)
    for value in [
      "morpheus", "", "caf\u{E9}", #"a\"b"#, #"a\u0041"#, "a\"", #"x", "action": "find"#, "\u{1}", #"\"#,
    ] {
      let content = Array((around.0 + value + around.1).utf8)
      let learned = Message.encode(
        contentType: "text/json", contentEncoding: "utf-8", content: Array((around.0 + "ring" + around.1).utf8))
      expectAgreement(learned, prefixes: false)
      expectAgreement(Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: content))
    }
    for bad in [[0xC3], [0xFF], [0x61, 0x80]] as [[UInt8]] {
      let content = Array(around.0.utf8) + bad + Array(around.1.utf8)
      expectAgreement(Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: content))
    }
    // The same bytes under another encoding are not the learned UTF-8 search.
    let latin = Array((around.0 + "caf").utf8) + [0xE9] + Array(around.1.utf8)
    expectAgreement(Message.encode(contentType: "text/json", contentEncoding: "latin-1", content: latin))
  }

  /// A header of thousands of keys, one of them twice at the end, is refused naming it.
  @Test func duplicateKeysAmongThousands() {
    var header = #"{"byteorder": "l", "content-type": "t", "content-encoding": "e", "content-length": 0"#
    for i in 0..<3000 { header += #", "k\#(i)": \#(i)"# }
    header += #", "k17": 1}"#
    let h = Array(header.utf8)
    let bytes = [UInt8(h.count >> 8), UInt8(h.count & 0xFF)] + h
    let limits = WireLimits(maxHeaderBytes: 65535)
    #expect(
      daemon(bytes, limits: limits)
        == .failed(WireError(.badHeader, #"duplicate header "k17""#, closesConnection: true)))
    expectAgreement(bytes, limits: limits, prefixes: false)
  }

  /// Every fuzz input and many mutated requests.
  @Test func agreesWithTheReferenceOnTheCorpusAndOnMutations() throws {
    var inputs = FuzzCorpusDifferentialTests.corpus.compactMap { try? Array(Data(contentsOf: $0).dropFirst()) }
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
      var bytes = protocolVectors.randomElement(using: &rng)!.request
      for _ in 0..<Int.random(in: 1...3, using: &rng) {
        bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
      }
      inputs.append(bytes)
    }
    var requests = 0
    for input in inputs {
      if quick(input) != nil { requests += 1 }
      expectAgreement(input, prefixes: false)
    }
    #expect(requests > 100, "mutations that stay requests are read as requests")
  }
}
