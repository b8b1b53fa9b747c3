/// The PROXY protocol's header (HAProxy's proxy-protocol.txt, versions 1 and 2): what a
/// proxy sends before the client's first byte, saying who the client is. A pure decoder:
/// give it the bytes received so far, it says whether the header is whole, and how long.
public struct ProxyHeader: Equatable, Sendable {
  /// The client's address as the proxy saw it.
  public enum Address: Equatable, Sendable {
    case ipv4([UInt8], port: UInt16)
    case ipv6([UInt8], port: UInt16)
  }

  public enum Command: Equatable, Sendable {
    /// A connection relayed for a client: `source` is who.
    case proxy
    /// The proxy's own connection (a health check, v2 LOCAL) or a v1 UNKNOWN: no client
    /// address; the connection's own peer stands.
    case local
  }

  public let version: Int
  public let command: Command
  public let source: Address?
  public let destination: Address?

  /// What the bytes so far hold.
  public enum Outcome: Equatable, Sendable {
    /// A whole header of `length` bytes; the client's bytes follow it.
    case header(ProxyHeader, length: Int)
    case needMore
    case invalid(String)
  }

  /// v2's 12-byte signature; v1 starts with "PROXY ".
  static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
  static let v1Prefix = Array("PROXY ".utf8)
  /// v1's longest line, CRLF included (the spec's 107).
  static let v1MaxLength = 107
  /// How many bytes to look at to be sure of a header: v2's fixed part and the largest
  /// address block a TCP header carries, plus room for TLVs; longer ones are refused.
  public static let maxLength = 16 + 536

  /// A v2 PROXY command for a TCP connection (both addresses of one family), as HAProxy's
  /// send-proxy-v2 writes it: for load generators and tests that stand in for a balancer.
  public static func encodeV2(source: Address, destination: Address) -> [UInt8] {
    var out = signature + [0x21]
    switch (source, destination) {
    case (.ipv4(let s, let sp), .ipv4(let d, let dp)):
      out += [0x11, 0, 12] + s + d + [UInt8(sp >> 8), UInt8(sp & 0xFF), UInt8(dp >> 8), UInt8(dp & 0xFF)]
    case (.ipv6(let s, let sp), .ipv6(let d, let dp)):
      out += [0x21, 0, 36] + s + d + [UInt8(sp >> 8), UInt8(sp & 0xFF), UInt8(dp >> 8), UInt8(dp & 0xFF)]
    default:
      out += [0x00, 0, 0]  // mixed families: UNSPEC, no addresses
    }
    return out
  }

  public static func decode(_ bytes: UnsafeRawBufferPointer) -> Outcome {
    let prefix = min(bytes.count, signature.count)
    if bytes.count > 0 && bytes[0] == signature[0] {
      guard signature[..<prefix].elementsEqual(bytes[..<prefix]) else { return .invalid("not a PROXY header") }
      return bytes.count < 16 ? .needMore : decodeV2(bytes)
    }
    let v1 = min(bytes.count, v1Prefix.count)
    guard v1Prefix[..<v1].elementsEqual(bytes[..<v1]) else { return .invalid("not a PROXY header") }
    return decodeV1(bytes)
  }

  private static func decodeV1(_ bytes: UnsafeRawBufferPointer) -> Outcome {
    guard let lf = bytes.prefix(v1MaxLength).firstIndex(of: 0x0A) else {
      return bytes.count >= v1MaxLength ? .invalid("a PROXY v1 line longer than 107 bytes") : .needMore
    }
    guard lf > 0, bytes[lf - 1] == 0x0D else { return .invalid("a PROXY v1 line not ended by CRLF") }
    let line = String(decoding: bytes[v1Prefix.count..<(lf - 1)], as: UTF8.self)
    let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    if fields.first == "UNKNOWN" {
      return .header(ProxyHeader(version: 1, command: .local, source: nil, destination: nil), length: lf + 1)
    }
    guard fields.count == 5, fields[0] == "TCP4" || fields[0] == "TCP6" else {
      return .invalid("a PROXY v1 line must be TCP4, TCP6 or UNKNOWN with two addresses and two ports")
    }
    let v6 = fields[0] == "TCP6"
    guard let sourcePort = port(fields[3]), let destinationPort = port(fields[4]),
      let source = v6 ? AddressText.ipv6(fields[1]) : AddressText.ipv4(fields[1]),
      let destination = v6 ? AddressText.ipv6(fields[2]) : AddressText.ipv4(fields[2])
    else { return .invalid("a PROXY v1 line with a malformed address or port") }
    return .header(
      ProxyHeader(
        version: 1, command: .proxy,
        source: v6 ? .ipv6(source, port: sourcePort) : .ipv4(source, port: sourcePort),
        destination: v6 ? .ipv6(destination, port: destinationPort) : .ipv4(destination, port: destinationPort)),
      length: lf + 1)
  }

  private static func decodeV2(_ bytes: UnsafeRawBufferPointer) -> Outcome {
    let versionCommand = bytes[12]
    guard versionCommand >> 4 == 2 else { return .invalid("a PROXY v2 header of version \(versionCommand >> 4)") }
    let length = Int(bytes[14]) << 8 | Int(bytes[15])
    guard 16 + length <= maxLength else { return .invalid("a PROXY v2 header of \(16 + length) bytes") }
    guard bytes.count >= 16 + length else { return .needMore }
    let command: Command
    switch versionCommand & 0x0F {
    case 0: command = .local
    case 1: command = .proxy
    default: return .invalid("a PROXY v2 header with command \(versionCommand & 0x0F)")
    }
    let body = UnsafeRawBufferPointer(rebasing: bytes[16..<(16 + length)])
    let family = bytes[13]
    // LOCAL and the unspecified family carry no address the connection must use.
    if command == .local || family >> 4 == 0 {
      return .header(ProxyHeader(version: 2, command: .local, source: nil, destination: nil), length: 16 + length)
    }
    let portAt = { (i: Int) -> UInt16 in UInt16(body[i]) << 8 | UInt16(body[i + 1]) }
    switch family {
    case 0x11:  // TCP over IPv4
      guard length >= 12 else { return .invalid("a PROXY v2 IPv4 header too short for its addresses") }
      return .header(
        ProxyHeader(
          version: 2, command: .proxy, source: .ipv4(Array(body[0..<4]), port: portAt(8)),
          destination: .ipv4(Array(body[4..<8]), port: portAt(10))), length: 16 + length)
    case 0x21:  // TCP over IPv6
      guard length >= 36 else { return .invalid("a PROXY v2 IPv6 header too short for its addresses") }
      return .header(
        ProxyHeader(
          version: 2, command: .proxy, source: .ipv6(Array(body[0..<16]), port: portAt(32)),
          destination: .ipv6(Array(body[16..<32]), port: portAt(34))), length: 16 + length)
    default:
      return .invalid("a PROXY v2 header for family 0x\(String(family, radix: 16)), not TCP")
    }
  }

  private static func port(_ text: String) -> UInt16? {
    guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isASCIIDigit), !(text.count > 1 && text.first == "0")
    else { return nil }
    return UInt16(text)
  }
}

extension Character {
  var isASCIIDigit: Bool { isASCII && isNumber }
}
