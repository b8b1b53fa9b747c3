/// One suggestion as the reply lists it.
public struct SuggestedEntry {
  /// The key's UTF-8, escaped when written.
  public var key: UnsafeRawBufferPointer
  /// The value as a JSON string holds it, escaped already (as the index stores it).
  public var text: UnsafeRawBufferPointer
  public var typos: Int

  public init(key: UnsafeRawBufferPointer, text: UnsafeRawBufferPointer, typos: Int) {
    self.key = key
    self.text = text
    self.typos = typos
  }
}

extension Reply {
  /// `{"result": [{"key": K, "value": V, "typos": N}, …], "complete": B}`, as Python's
  /// `json.dumps` writes it: the suggest reply's content, in these pieces.
  private static let suggestOpen: StaticString = #"{"result": ["#
  private static let suggestKey: StaticString = #"{"key": "#
  private static let suggestValue: StaticString = #", "value": ""#
  private static let suggestTypos: StaticString = #"", "typos": "#
  private static let suggestSeparator: StaticString = ", "
  private static let suggestComplete: StaticString = #"}], "complete": true}"#
  private static let suggestCut: StaticString = #"}], "complete": false}"#

  // The entries as a buffer, not a generic collection: read through a protocol across
  // modules, each element was an allocation (a coroutine's frame).

  /// The suggest reply's length, frame included.
  public static func suggestionsLength(_ entries: UnsafeBufferPointer<SuggestedEntry>, complete: Bool) -> Int {
    ReplyShapes.shared.table.pointee.result.frameLength(content: suggestContentLength(entries, complete: complete))
  }

  private static func suggestContentLength(_ entries: UnsafeBufferPointer<SuggestedEntry>, complete: Bool) -> Int {
    var content = suggestOpen.utf8CodeUnitCount + (complete ? suggestComplete : suggestCut).utf8CodeUnitCount - 1
    for (i, e) in entries.enumerated() {
      if i > 0 { content += suggestSeparator.utf8CodeUnitCount }
      content += suggestKey.utf8CodeUnitCount + 2 + JSONWriter.escapedLength(e.key) + suggestValue.utf8CodeUnitCount
      content += e.text.count + suggestTypos.utf8CodeUnitCount + DirectReply.digits(e.typos) + 1
    }
    // Each entry counted with its `}`; the end's first byte is the last one's (or, with
    // none, not written).
    return content
  }

  /// Writes the suggest reply into `out`, `suggestionsLength` bytes long.
  public static func writeSuggestions(
    _ entries: UnsafeBufferPointer<SuggestedEntry>, complete: Bool, into out: UnsafeMutableRawBufferPointer
  ) {
    let shape = ReplyShapes.shared.table.pointee.result
    var at = shape.writeFrameHead(content: suggestContentLength(entries, complete: complete), into: out)
    func put(_ s: StaticString) {
      (out.baseAddress! + at).copyMemory(from: s.utf8Start, byteCount: s.utf8CodeUnitCount)
      at += s.utf8CodeUnitCount
    }
    func put(_ b: UnsafeRawBufferPointer) { at = shape.copy(b, to: out, at: at) }
    put(suggestOpen)
    for (i, e) in entries.enumerated() {
      if i > 0 { put(suggestSeparator) }
      put(suggestKey)
      at += JSONWriter.writeString(e.key, to: out.baseAddress! + at)
      put(suggestValue)
      put(e.text)
      put(suggestTypos)
      let digits = DirectReply.digits(e.typos)
      var v = e.typos
      for d in stride(from: digits - 1, through: 0, by: -1) {
        out[at + d] = UInt8(ascii: "0") + UInt8(v % 10)
        v /= 10
      }
      at += digits
      if i < entries.count - 1 { put("}") }
    }
    let end: StaticString = complete ? suggestComplete : suggestCut
    // After the last entry its `}` then `]`; with none, only `]`.
    if entries.isEmpty {
      (out.baseAddress! + at).copyMemory(from: end.utf8Start + 1, byteCount: end.utf8CodeUnitCount - 1)
      at += end.utf8CodeUnitCount - 1
    } else {
      put(end)
    }
    precondition(at == out.count, "a suggest reply wrote \(at) bytes of \(out.count)")
  }

  /// The suggest reply for `entries` (key, value, typos), for tests and tools.
  public static func suggestions(_ entries: [(key: String, value: String, typos: Int)], complete: Bool) -> [UInt8] {
    let keys = entries.map { Array($0.key.utf8) }
    let texts = entries.map { e -> [UInt8] in
      var quoted: [UInt8] = []
      JSONWriter.appendString(e.value, to: &quoted)
      return Array(quoted.dropFirst().dropLast())
    }
    return keys.withUnsafeBufferPointers { k in
      texts.withUnsafeBufferPointers { t in
        let items = entries.indices.map { SuggestedEntry(key: k[$0], text: t[$0], typos: entries[$0].typos) }
        return items.withUnsafeBufferPointer { items in
          let n = suggestionsLength(items, complete: complete)
          return [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            writeSuggestions(items, complete: complete, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = n
          }
        }
      }
    }
  }
}

extension Array where Element == [UInt8] {
  /// Each element's bytes, valid inside `body`.
  fileprivate func withUnsafeBufferPointers<R>(_ body: ([UnsafeRawBufferPointer]) -> R) -> R {
    var pointers: [UnsafeRawBufferPointer] = []
    func next(_ i: Int) -> R {
      guard i < count else { return body(pointers) }
      return self[i].withUnsafeBytes {
        pointers.append($0)
        return next(i + 1)
      }
    }
    return next(0)
  }
}
