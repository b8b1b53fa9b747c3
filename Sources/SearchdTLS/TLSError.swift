import COpenSSL

/// An OpenSSL failure, in words a user can act on: what searchd was doing and OpenSSL's
/// reasons, read (and so cleared) from the thread's error queue, with the certificate
/// check's verdict where there is one.
public struct TLSError: Error, CustomStringConvertible, Sendable {
  public let operation: String
  public let reasons: [String]
  /// The certificate check's result (X509_V_*), 0 when it passed or did not run.
  public let verifyResult: Int

  public init(_ operation: String, reasons: [String], verifyResult: Int = 0) {
    self.operation = operation
    self.reasons = reasons
    self.verifyResult = verifyResult
  }

  /// Takes every error OpenSSL queued on this thread.
  static func drain(_ operation: String, verifyResult: Int = 0) -> TLSError {
    var reasons: [String] = []
    var text = [CChar](repeating: 0, count: 256)
    while case let code = ERR_get_error(), code != 0 {
      if let reason = ERR_reason_error_string(code) {
        reasons.append(String(cString: reason))
      } else {
        // A system error (errno inside): "error:8000000D:system library::Permission denied".
        ERR_error_string_n(code, &text, text.count)
        let full = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        reasons.append(String(full[(full.lastIndex(of: ":").map(full.index(after:)) ?? full.startIndex)...]))
      }
    }
    return TLSError(operation, reasons: reasons, verifyResult: verifyResult)
  }

  /// X509_V_ERR_CERT_REJECTED: the certificate was good but not on the allowed list.
  public var isNotAllowed: Bool { verifyResult == Int(X509_V_ERR_CERT_REJECTED) }

  public var verifyText: String? {
    verifyResult == 0 ? nil : String(cString: X509_verify_cert_error_string(verifyResult))
  }

  /// With what searchd was doing ("reading the key /etc/…: Permission denied"), for
  /// errors of set-up rather than of a peer.
  public var detailed: String { "\(operation): \(description)" }

  public var description: String {
    var text = reasons.isEmpty ? "\(operation) failed" : reasons.joined(separator: ": ")
    if let verifyText { text += ": " + verifyText }
    return text
  }
}
