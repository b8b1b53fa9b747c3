/// IP addresses as text, read strictly (the PROXY protocol's v1 line, address blocks in
/// settings) and written back.
public enum AddressText {
  /// Dotted quad, each part 0-255 without leading zeros (the spec's form).
  public static func ipv4(_ text: String) -> [UInt8]? {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var out: [UInt8] = []
    for p in parts {
      guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCIIDigit), !(p.count > 1 && p.first == "0"),
        let v = UInt8(p)
      else { return nil }
      out.append(v)
    }
    return out
  }

  /// RFC 4291 text (with `::` and an IPv4 tail), as inet_pton reads it.
  public static func ipv6(_ text: String) -> [UInt8]? {
    guard text.count <= 45, !text.isEmpty else { return nil }
    var halves = [text]
    if let gap = text.firstRange(of: "::") {
      halves = [String(text[..<gap.lowerBound]), String(text[gap.upperBound...])]
      guard halves[1].firstRange(of: "::") == nil else { return nil }
    }
    func groups(_ s: String) -> [UInt8]? {
      if s.isEmpty { return [] }
      var out: [UInt8] = []
      let parts = s.split(separator: ":", omittingEmptySubsequences: false)
      for (i, p) in parts.enumerated() {
        if i == parts.count - 1, p.contains(".") {
          guard let v4 = ipv4(String(p)) else { return nil }
          out += v4
          continue
        }
        guard !p.isEmpty, p.count <= 4, let v = UInt16(p, radix: 16) else { return nil }
        out += [UInt8(v >> 8), UInt8(v & 0xFF)]
      }
      return out
    }
    guard let head = groups(halves[0]) else { return nil }
    if halves.count == 1 { return head.count == 16 ? head : nil }
    guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
    return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
  }

  /// 4 bytes as a dotted quad, 16 as RFC 5952 text (the longest run of zero groups as `::`).
  public static func format(_ bytes: [UInt8]) -> String {
    if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
    let groups = stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
    var best = (start: -1, count: 0)
    var i = 0
    while i < groups.count {
      var j = i
      while j < groups.count && groups[j] == 0 { j += 1 }
      if j - i > best.count && j - i > 1 { best = (i, j - i) }
      i = j == i ? i + 1 : j
    }
    let hex = groups.map { String($0, radix: 16) }
    guard best.start >= 0 else { return hex.joined(separator: ":") }
    return hex[..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.count)...].joined(separator: ":")
  }
}
