/// How a pass of the walk chooses what it returns: its picks, ranked by length then byte
/// order, kept in a bounded max-heap; runs drawn from best key first.
extension Suggester {
  /// A key as ranked within a pass: the shorter first, then byte order, which is the
  /// sorted order.
  struct Pick: Sendable {
    var length: UInt8
    var position: Int

    func before(_ other: Pick) -> Bool {
      length != other.length ? length < other.length : position < other.position
    }
  }

  /// A run and its best key.
  struct Candidate: Sendable {
    var pick: Pick
    var run: Range<Int>
  }

  mutating func begin(limit: Int) {
    need = limit - suggestions.count
    chosen.removeAll(keepingCapacity: true)
  }

  /// Appends this pass's picks, best first, all at distance `typos`.
  mutating func finish(typos: Int) {
    // Worst first off the heap, so filled from the back (a sort would allocate its buffer).
    let base = suggestions.count
    for _ in chosen { suggestions.append(Suggestion(position: 0, typos: typos)) }
    var at = suggestions.count
    while let worst = chosen.first {
      at -= 1
      suggestions[at].position = worst.position
      let last = chosen.removeLast()
      if !chosen.isEmpty { replaceWorst(last) }
    }
    precondition(at == base)
  }

  /// Draws the keys of `run` (all at this pass's distance) into `chosen` while they beat
  /// its worst: its shortest key first, then the shortest of what is either side of it.
  mutating func offer(_ run: Range<Int>, _ section: SuggestSection) {
    guard need > 0 else { return }
    pending.removeAll(keepingCapacity: true)
    push(run, section)
    while let best = popPending() {
      if chosen.count == need {
        guard best.pick.before(chosen[0]) else { break }
        replaceWorst(best.pick)
      } else {
        insert(best.pick)
      }
      push(best.run.lowerBound..<best.pick.position, section)
      push((best.pick.position + 1)..<best.run.upperBound, section)
    }
  }

  private mutating func push(_ run: Range<Int>, _ section: SuggestSection) {
    guard !run.isEmpty else { return }
    let (position, length) = section.shortest(run.lowerBound, run.upperBound)
    pending.append(Candidate(pick: Pick(length: length, position: position), run: run))
    var i = pending.count - 1
    while i > 0 {
      let up = (i - 1) / 2
      guard pending[i].pick.before(pending[up].pick) else { break }
      pending.swapAt(i, up)
      i = up
    }
  }

  private mutating func popPending() -> Candidate? {
    guard let last = pending.popLast() else { return nil }
    guard !pending.isEmpty else { return last }
    let top = pending[0]
    pending[0] = last
    var i = 0
    while true {
      let l = 2 * i + 1
      let r = l + 1
      var least = i
      if l < pending.count && pending[l].pick.before(pending[least].pick) { least = l }
      if r < pending.count && pending[r].pick.before(pending[least].pick) { least = r }
      if least == i { break }
      pending.swapAt(i, least)
      i = least
    }
    return top
  }

  /// Into the max-heap `chosen`, which has room.
  private mutating func insert(_ pick: Pick) {
    chosen.append(pick)
    var i = chosen.count - 1
    while i > 0 {
      let up = (i - 1) / 2
      guard chosen[up].before(chosen[i]) else { break }
      chosen.swapAt(i, up)
      i = up
    }
  }

  /// Puts `pick` in place of the worst chosen.
  private mutating func replaceWorst(_ pick: Pick) {
    chosen[0] = pick
    var i = 0
    while true {
      let l = 2 * i + 1
      let r = l + 1
      var worst = i
      if l < chosen.count && chosen[worst].before(chosen[l]) { worst = l }
      if r < chosen.count && chosen[worst].before(chosen[r]) { worst = r }
      if worst == i { break }
      chosen.swapAt(i, worst)
      i = worst
    }
  }
}
