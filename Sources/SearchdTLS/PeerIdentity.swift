import COpenSSL

/// Who a certificate names: its subject's common name and its DNS and URI alternative
/// names. A client is allowed (or an admin) when any of them is listed.
public struct PeerIdentity: Sendable, Equatable {
  public let commonName: String?
  public let alternativeNames: [String]

  public init(commonName: String?, alternativeNames: [String]) {
    self.commonName = commonName
    self.alternativeNames = alternativeNames
  }

  /// Reads the names off a certificate (not retained).
  init(certificate: OpaquePointer) {
    var cn: String?
    if let subject = searchd_X509_get_subject_name(certificate) {
      let index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)
      if index >= 0, let entry = X509_NAME_get_entry(subject, index), let data = X509_NAME_ENTRY_get_data(entry) {
        cn = Self.text(UnsafePointer(data))
      }
    }
    var alternatives: [String] = []
    if let names = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) {
      let stack = OpaquePointer(names)
      for i in 0..<OPENSSL_sk_num(stack) {
        let general = OPENSSL_sk_value(stack, i).map { UnsafePointer<GENERAL_NAME>(OpaquePointer($0)) }
        var type: Int32 = 0
        guard let value = GENERAL_NAME_get0_value(general, &type), type == GEN_DNS || type == GEN_URI else { continue }
        if let name = Self.text(value.assumingMemoryBound(to: ASN1_STRING.self)) { alternatives.append(name) }
      }
      GENERAL_NAMES_free(stack)
    }
    self.init(commonName: cn, alternativeNames: alternatives)
  }

  private static func text(_ string: UnsafePointer<ASN1_STRING>) -> String? {
    guard let bytes = ASN1_STRING_get0_data(string) else { return nil }
    let count = Int(ASN1_STRING_length(string))
    return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
  }

  /// Every name, the common name first.
  public var names: [String] { (commonName.map { [$0] } ?? []) + alternativeNames }

  /// Whether any name is in `list`.
  public func isListed(in list: [String]) -> Bool { names.contains { list.contains($0) } }

  /// The allow-list rule, the one place it is written: an empty list admits every peer the
  /// handshake accepted; a list admits only a certificate with a listed name, never a peer
  /// without one. The handshake applies it, and a finished session is held to it again
  /// (a resumed session may predate a reload's new list).
  public static func admits(_ identity: PeerIdentity?, allowed: [String]) -> Bool {
    guard !allowed.isEmpty else { return true }
    return identity?.isListed(in: allowed) ?? false
  }

  /// What the journal shows (`SEARCHD_CLIENT`): the common name, or else the first other name.
  public var display: String { names.first ?? "(no name)" }
}
