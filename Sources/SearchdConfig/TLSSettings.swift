import Foundation
import Glibc
import SearchdTLS

/// What TLS listeners serve with: certificate, key, and who may connect. Read at start
/// and again by each reload (certificate, key, CA and the client lists).
public struct TLSSettings: Sendable {
  /// The certificate chain, PEM. A bare file name is looked up in $CREDENTIALS_DIRECTORY
  /// when systemd set one (LoadCredential=), so a unit names credentials, not paths.
  public var certificate: String?
  public var key: String?
  public var clientCA: String?
  /// nil: `required` when a client CA is given, else `none`.
  public var verifyClients: TLSContext.ClientVerification?
  public var allowedClients = NameList()
  public var adminClients = NameList()
  public var handshakeTimeout: Duration = .seconds(10)

  public init() {}

  public var effectiveVerify: TLSContext.ClientVerification { verifyClients ?? (clientCA == nil ? .none : .required) }

  /// The server context these settings describe.
  public func makeContext() throws(TLSError) -> TLSContext {
    guard let certificate, let key else { throw TLSError("TLS", reasons: ["tls-certificate and tls-key are needed"]) }
    return try .server(
      certificateChain: Self.locate(certificate), privateKey: Self.locate(key), clientCA: clientCA.map(Self.locate),
      verify: effectiveVerify, allowedClients: allowedClients.names)
  }

  static func locate(_ file: String) -> String {
    guard !file.contains("/"), let directory = getenv("CREDENTIALS_DIRECTORY") else { return file }
    return String(cString: directory) + "/" + file
  }

  /// The rules between the TLS settings, checked with the others at start and reload.
  func check(listening: Bool) throws(SettingError) {
    if listening && (certificate == nil || key == nil) {
      throw SettingError("tls-listen needs tls-certificate and tls-key")
    }
    if (certificate == nil) != (key == nil) { throw SettingError("tls-certificate and tls-key go together") }
    if certificate == nil && clientCA != nil { throw SettingError("tls-client-ca needs tls-certificate and tls-key") }
    if clientCA == nil && (verifyClients ?? .none) != .none {
      throw SettingError("tls-verify-clients \(verifyClients!.rawValue) needs tls-client-ca")
    }
    if clientCA == nil && !(allowedClients.names.isEmpty && adminClients.names.isEmpty) {
      throw SettingError("tls-allowed-clients and tls-admin-clients need tls-client-ca")
    }
    // A server that asks for no certificate cannot tell who is on either list.
    for (list, name) in [(allowedClients, "tls-allowed-clients"), (adminClients, "tls-admin-clients")]
    where !list.names.isEmpty && effectiveVerify == .none {
      throw SettingError(
        "\(name) cannot be enforced with tls-verify-clients none: no certificate is asked for; "
          + "use optional or required")
    }
  }
}

/// A comma-separated list of certificate names (subject CN, DNS or URI alternative name).
public struct NameList: Sendable, Equatable, SettingValue {
  public var names: [String]
  public init(_ names: [String] = []) { self.names = names }

  public init?(settingText: String) {
    let names = settingText.split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    // An empty list would read as "no list": everyone served. Leave the line out instead.
    guard !names.contains(where: \.isEmpty) else { return nil }
    self.names = names
  }
  public var settingText: String { names.joined(separator: ",") }
  public static var settingKind: String { "names separated by commas, none empty" }
}

extension TLSContext.ClientVerification: SettingValue {
  public init?(settingText: String) { self.init(rawValue: settingText) }
  public var settingText: String { rawValue }
}
