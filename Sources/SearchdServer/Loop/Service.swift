import Atomics
import SearchdSystem

/// What a listener serves. Named as systemd's FileDescriptorName= names the sockets.
public enum Service: String, Sendable, CaseIterable {
  case app
  case echo
  /// The application protocol over TLS.
  case appTLS = "app-tls"
  /// HTTP for operators and balancers: /metrics, /healthz, /readyz.
  case admin
}

/// A listening socket, the service it is for, and whether its connections start with a
/// PROXY header (a balancer in front): decided once when it is opened. Under systemd a
/// socket named `app-proxy` or `app-tls-proxy` is a proxied one.
public struct ServiceListener: Sendable, CustomStringConvertible {
  public let listener: Listener
  public let service: Service
  public var proxied = false
  /// Connections accepted and turned away on this listener (every loop's acceptor), and
  /// those of its connections open now.
  public let accepted = ManagedAtomic<Int>(0)
  public let open = ManagedAtomic<Int>(0)
  public let rejected = ManagedAtomic<Int>(0)

  public init(listener: Listener, service: Service, proxied: Bool = false) {
    self.listener = listener
    self.service = service
    self.proxied = proxied
  }

  /// The systemd socket name this listener answers to.
  public var name: String { service.rawValue + (proxied ? "-proxy" : "") }

  /// A systemd FileDescriptorName: `app`, `echo`, `app-tls`, with `-proxy` after; an
  /// unknown or missing one is the application protocol's.
  public init(listener: Listener, named name: String) {
    let proxied = name.hasSuffix("-proxy")
    let base = proxied ? String(name.dropLast(6)) : name
    self.init(listener: listener, service: Service(rawValue: base) ?? .app, proxied: proxied)
  }

  public var description: String { "\(name)=\(listener)" }
}
