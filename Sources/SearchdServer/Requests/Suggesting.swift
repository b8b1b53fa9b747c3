import Glibc
import SearchdIndex
import SearchdWire

/// What a loop's suggest requests reuse: the suggester's buffers and the memory its replies
/// are written in, so a suggestion allocates nothing once they have grown.
// @unchecked: one loop's, as its handler is; never touched from another thread.
final class Suggesting: @unchecked Sendable {
  var suggester: Suggester
  /// The suggestions as the reply lists them, pointing into the table.
  private var entries: [SuggestedEntry] = []
  private var reply: UnsafeMutableRawPointer?
  private var capacity = 0

  init(maxVisits: Int) { suggester = Suggester(visitLimit: maxVisits) }

  deinit { free(reply) }

  /// The suggest reply for `request` over `table`, written in this loop's memory: valid
  /// until the next suggestion. nil when the index holds no suggest section.
  func answer(_ request: SuggestRequest, in table: LookupTable) -> UnsafeRawBufferPointer? {
    let outcome = suggester.suggest(request, in: table)
    if outcome == .unsupported { return nil }
    entries.removeAll(keepingCapacity: true)
    for s in suggester.suggestions {
      let entry = table.suggestion(at: s.position)
      entries.append(SuggestedEntry(key: entry.key, text: entry.text, typos: s.typos))
    }
    return entries.withUnsafeBufferPointer { entries in
      let count = Reply.suggestionsLength(entries, complete: outcome == .complete)
      if count > capacity {
        capacity = max(count, 2 * capacity, 4096)
        reply = realloc(reply, capacity)
        precondition(reply != nil, "out of memory for a suggest reply of \(count) bytes")
      }
      let out = UnsafeMutableRawBufferPointer(start: reply, count: count)
      Reply.writeSuggestions(entries, complete: outcome == .complete, into: out)
      return UnsafeRawBufferPointer(out)
    }
  }
}
