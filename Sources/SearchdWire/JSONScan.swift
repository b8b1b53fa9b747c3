/// Finds the bytes JSON strings treat specially (`"`, `\` and controls below 0x20) eight
/// at a time: the reader and the writer of strings both skip the plain runs between them
/// (a value of plain text is one run), the index compiler's hottest loop.
enum JSONScan {
  /// The offset of the first special byte at or after `start`, or `bytes.count`.
  @inline(__always) static func firstSpecial(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
    var i = start
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    while i + 8 <= bytes.count {
      let x = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      // A byte is zero in v exactly where x holds the byte sought; (v - ones) & ~v sets
      // its high bit there (and no false positive below the first true one). Controls:
      // x < 0x20 where its high bit is clear and x - 0x20 borrows.
      let quote = x ^ (ones &* 0x22)
      let backslash = x ^ (ones &* 0x5C)
      let found =
        ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((x &- ones &* 0x20) & ~x)
      if found & highs != 0 {
        return i + (found & highs).trailingZeroBitCount / 8
      }
      i += 8
    }
    while i < bytes.count {
      let b = bytes[i]
      if b == 0x22 || b == 0x5C || b < 0x20 { return i }
      i += 1
    }
    return bytes.count
  }
}
