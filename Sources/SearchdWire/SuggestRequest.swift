/// `{"action": "suggest", "value": TEXT, "limit": N, "typos": N}`: its options' rules, once.
public struct SuggestRequest {
  /// The typed text's UTF-8: the request's own bytes or the reader's scratch.
  public var text: UnsafeRawBufferPointer
  public var limit: Int
  public var typos: Int

  public init(text: UnsafeRawBufferPointer, limit: Int, typos: Int) {
    self.text = text
    self.limit = limit
    self.typos = typos
  }

  public static let defaultLimit = 10
  public static let limits = 1...100
  public static let typoRange = 0...2
  /// The longest text suggested for, in Unicode scalars: the work per key grows with it.
  public static let maxTextScalars = 256

  /// The typos allowed when the request names none (as search engines: 0 below 4 scalars, 1 below 8).
  public static func defaultTypos(scalars: Int) -> Int { scalars < 4 ? 0 : scalars < 8 ? 1 : 2 }

  /// Unicode scalars in valid UTF-8: the bytes that do not continue one.
  public static func scalarCount(_ utf8: UnsafeRawBufferPointer) -> Int {
    utf8.reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) }
  }
}
