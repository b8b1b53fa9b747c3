/// The accelerator's general reader: JSON content the narrow scan does not take (any
/// spacing and order, other keys, nested values, UTF-16 and UTF-32, and content that is
/// refused) read as `Request.parse` reads it, with the same outcome, but building nothing:
/// keys and values go through the memo's reused buffers. Only `stats` (and content not
/// valid in its UTF-16 or UTF-32 encoding, whose error names the encoding) are left to the
/// full decoder.
extension FrameDecoder {
  /// UTF-16 or UTF-32 content (as Python's codecs write it, a byte-order mark included),
  /// transcoded into the memo's buffer, then read by the general reader.
  static func transcoded(
    _ content: UnsafeRawBufferPointer, _ encoding: TextEncoding, frameLength: Int, limits: WireLimits,
    memo: inout HeaderMemo
  ) -> PlainOutcome {
    // Out of the memo while it is read, so what it finds can be written into the memo.
    var text: [UInt8] = []
    swap(&text, &memo.transcoded)
    defer { swap(&text, &memo.transcoded) }
    guard encoding.transcodeToUTF8(content, into: &text) else { return .other }
    return text.withUnsafeBytes { read($0, checked: true, frameLength: frameLength, limits: limits, memo: &memo) }
  }

  /// JSON content read member by member: the last `action` and `value` (as the parsed
  /// object's lookup finds them) decide, in `Request.parse`'s order of checks. `checked`:
  /// the content is known to be UTF-8.
  static func read(
    _ content: UnsafeRawBufferPointer, checked: Bool, frameLength: Int, limits: WireLimits, memo: inout HeaderMemo
  ) -> PlainOutcome {
    func outcome(_ kind: PlainRequest.Kind) -> PlainOutcome {
      .request(PlainRequest(frameLength: frameLength, kind: kind))
    }
    // Checked whole once here, so the parser need not check each string again.
    if !checked && !UTF8Validation.isValid(content) { return outcome(.refused(.notUTF8)) }
    // nil: not there; false: not a string; true: its bytes are in the memo.
    var action: Bool?
    var value: Bool?
    var keys: [UInt8] = []
    var values: [UInt8] = []
    swap(&keys, &memo.keys)
    swap(&values, &memo.values)
    defer {
      swap(&keys, &memo.keys)
      swap(&values, &memo.values)
    }
    do throws(JSONParser.Failure) {
      try JSONParser.forEachMember(
        ofObject: content, maxDepth: limits.maxJSONDepth, knownUTF8: true, keyScratch: &keys, valueScratch: &values
      ) { key, v, _ in
        if key.equals("action") {
          action = v != nil
          if let v { Self.copy(v, into: &memo.action) }
        } else if key.equals("value") {
          value = v != nil
          if let v { Self.copy(v, into: &memo.scratch) }
        }
        return true
      }
    } catch .notAnObject {
      return outcome(.refused(.notAnObject))
    } catch {
      return outcome(.refused(.notJSON))
    }
    guard let action else { return outcome(.refused(.noAction)) }
    guard action else { return outcome(.refused(.actionNotAString)) }
    if memo.resolvedAction.equals("search") {
      return value == true ? outcome(.resolvedSearch) : outcome(.refused(.searchWithoutValue))
    }
    // The stats report and its trust rule are the full path's.
    if memo.resolvedAction.equals("stats") { return .other }
    return outcome(.resolvedUnknownAction)
  }

  private static func copy(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
    out.removeAll(keepingCapacity: true)
    out.append(contentsOf: bytes)
  }
}
