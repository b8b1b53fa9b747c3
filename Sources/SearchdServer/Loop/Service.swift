import SearchdSystem

/// What a listener serves. Named as systemd's FileDescriptorName= names the sockets.
public enum Service: String, Sendable, CaseIterable {
  case app
  case echo
  /// The application protocol over TLS.
  case appTLS = "app-tls"
}

/// A listening socket and the service it is for, decided once when it is opened.
public struct ServiceListener: Sendable, CustomStringConvertible {
  public let listener: Listener
  public let service: Service

  public var description: String { "\(service.rawValue)=\(listener)" }
}
