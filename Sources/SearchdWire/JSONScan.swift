/// The bytes JSON strings treat specially (`"`, `\`, controls), found eight at a time: the
/// string reader's and writer's plain runs, and the index compiler's hottest loop.
enum JSONScan {
  /// The offset of the first special byte at or after `start`, or `bytes.count`.
  @inline(__always) static func firstSpecial(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
    var i = start
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    while i + 8 <= bytes.count {
      let x = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      // (v - ones) & ~v: the high bit of each zero byte of v (no false one below the first).
      let quote = x ^ (ones &* 0x22)
      let backslash = x ^ (ones &* 0x5C)
      let found =
        ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((x &- ones &* 0x20) & ~x)
      if found & highs != 0 {
        return i + (found & highs).trailingZeroBitCount / 8
      }
      i += 8
    }
    while i < bytes.count && bytes[i] != 0x22 && bytes[i] != 0x5C && bytes[i] >= 0x20 { i += 1 }
    return i
  }
}
