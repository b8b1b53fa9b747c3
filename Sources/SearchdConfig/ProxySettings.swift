import Foundation
import SearchdSystem
import SearchdWire

/// Who may put a PROXY header in front of a connection, and what it may say.
public struct ProxySettings: Sendable {
  /// Peers whose PROXY header is believed: loopback by default (a balancer on this host).
  public var trustedFrom = NetworkList([try! Network(parsing: "127.0.0.0/8"), try! Network(parsing: "::1/128")])
  /// Whether a header without a client (v2 LOCAL, v1 UNKNOWN: a balancer's health check)
  /// is served, as the balancer's own connection.
  public var allowLocal = true

  public init() {}
}

/// An address block, `10.0.0.0/8` or `2001:db8::/32`; a bare address is a block of one.
public struct Network: Sendable, Equatable, CustomStringConvertible {
  public let address: [UInt8]
  public let prefix: Int

  public init(parsing text: String) throws(SettingError) {
    let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
    guard let first = parts.first, let bytes = Self.bytes(first) else {
      throw SettingError("\"\(text)\" is not an address block (10.0.0.0/8, ::1/128)")
    }
    let bits = bytes.count * 8
    guard let prefix = parts.count == 2 ? Int(parts[1]) : bits, (0...bits).contains(prefix) else {
      throw SettingError("\"\(text)\" has a prefix length out of 0...\(bits)")
    }
    address = bytes
    self.prefix = prefix
  }

  private static func bytes(_ text: String) -> [UInt8]? {
    if text.contains(":") { return AddressText.ipv6(text) }
    return AddressText.ipv4(text)
  }

  /// Whether `peer` is inside (an IPv4-mapped IPv6 peer counts as its IPv4 address).
  public func contains(_ peer: SocketAddress?) -> Bool {
    var host: [UInt8]
    switch peer {
    case .ipv4(let h, _)?: host = h
    case .ipv6(let h, _, _)?:
      host = h
      if address.count == 4, h.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] { host = Array(h.suffix(4)) }
    default: return false
    }
    guard host.count == address.count else { return false }
    for bit in 0..<prefix where (host[bit / 8] ^ address[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 { return false }
    return true
  }

  public var description: String { "\(AddressText.format(address))/\(prefix)" }
}

/// A comma-separated list of address blocks.
public struct NetworkList: Sendable, Equatable, SettingValue {
  public var networks: [Network]
  public init(_ networks: [Network]) { self.networks = networks }

  public init?(settingText: String) {
    var out: [Network] = []
    for part in settingText.split(separator: ",") {
      guard let n = try? Network(parsing: part.trimmingCharacters(in: .whitespaces)) else { return nil }
      out.append(n)
    }
    guard !out.isEmpty else { return nil }
    networks = out
  }

  public var settingText: String { networks.map(\.description).joined(separator: ",") }
  public static var settingKind: String { "address blocks separated by commas (127.0.0.0/8,::1/128)" }

  public func contains(_ peer: SocketAddress?) -> Bool { networks.contains { $0.contains(peer) } }
}
