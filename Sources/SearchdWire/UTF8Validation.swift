/// Whether bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
/// past U+10FFFF), checked in place without making a String: the request reader validates
/// every non-ASCII query with it, and the index compiler every key and value.
public enum UTF8Validation {
  public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    let n = bytes.count
    while i < n {
      // ASCII eight bytes at a time: most text is.
      while i + 8 <= n && bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
        i += 8
      }
      guard i < n else { return true }
      let b = bytes[i]
      if b < 0x80 {
        i += 1
        continue
      }
      let continuation: Int
      var low: UInt8 = 0x80
      var high: UInt8 = 0xBF
      switch b {
      case 0xC2...0xDF: continuation = 1
      case 0xE0:
        continuation = 2
        low = 0xA0  // overlong below
      case 0xED:
        continuation = 2
        high = 0x9F  // surrogates above
      case 0xE1...0xEC, 0xEE...0xEF: continuation = 2
      case 0xF0:
        continuation = 3
        low = 0x90
      case 0xF1...0xF3: continuation = 3
      case 0xF4:
        continuation = 3
        high = 0x8F  // past U+10FFFF above
      default: return false
      }
      guard i + continuation < n else { return false }
      let second = bytes[i + 1]
      guard second >= low && second <= high else { return false }
      for j in 2..<(continuation + 1) where bytes[i + j] & 0xC0 != 0x80 { return false }
      i += continuation + 1
    }
    return true
  }
}
