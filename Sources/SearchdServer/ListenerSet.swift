import Glibc
import SearchdConfig
import SearchdSystem

/// Opens the sockets to serve: the ones systemd passed, picked by name, or else
/// the configured addresses, every address a host name resolves to.
public enum ListenerSet {
  public static func open(_ config: ServerConfig) throws(ServerError) -> [ServiceListener] {
    let passed: [(descriptor: Int32, name: String)]
    do { passed = try Systemd.listenFDs() } catch { throw .systemd(error) }
    if !passed.isEmpty {
      var out: [ServiceListener] = []
      for fd in passed {
        // systemd's order is not guaranteed; the names say what each socket is for, and
        // an unnamed one is the application protocol's.
        do {
          out.append(ServiceListener(listener: try Listener.adopt(descriptor: fd.descriptor), named: fd.name))
        } catch {
          for l in out { l.listener.close() }
          throw .systemd(error)
        }
      }
      deferProxiedAccepts(out, config)
      return out
    }
    var out: [ServiceListener] = []
    do {
      for endpoint in config.plainListen {
        out += try bind(endpoint, config).map { .init(listener: $0, service: .app) }
      }
      for endpoint in config.echoListen {
        out += try bind(endpoint, config).map { .init(listener: $0, service: .echo) }
      }
      for endpoint in config.tlsListen {
        out += try bind(endpoint, config).map { .init(listener: $0, service: .appTLS) }
      }
      for endpoint in config.adminListen {
        out += try bind(endpoint, config).map { .init(listener: $0, service: .admin) }
      }
      for endpoint in config.proxyListen {
        out += try bind(endpoint, config).map { .init(listener: $0, service: .app, proxied: true) }
      }
      for endpoint in config.proxyTLSListen {
        out += try bind(endpoint, config).map { .init(listener: $0, service: .appTLS, proxied: true) }
      }
    } catch {
      for l in out { l.listener.close() }
      throw error
    }
    deferProxiedAccepts(out, config)
    return out
  }

  /// A balancer's connection opens with its PROXY header: the kernel hands it over only
  /// once bytes have come (TCP_DEFER_ACCEPT, nginx's `deferred`), so the read at the accept
  /// finds the header instead of waiting another trip through the loop. A silent connection is
  /// still handed over after request-timeout, and then closed at its deadline.
  private static func deferProxiedAccepts(_ listeners: [ServiceListener], _ config: ServerConfig) {
    let seconds = Int32(clamping: max(1, config.connection.requestTimeout.nanoseconds / 1_000_000_000))
    for l in listeners where l.proxied && l.listener.address?.isInternet == true {
      // Best effort: without it the header is read one wakeup later.
      try? l.listener.socket.setOption(level: Int32(IPPROTO_TCP), name: TCP_DEFER_ACCEPT, value: seconds)
    }
  }

  private static func bind(_ endpoint: Endpoint, _ config: ServerConfig) throws(ServerError) -> [Listener] {
    let addresses: [SocketAddress]
    do { addresses = try endpoint.resolve(passive: true) } catch { throw .resolve(error) }
    guard !addresses.isEmpty else { throw .noAddress(endpoint) }
    var out: [Listener] = []
    for address in addresses {
      do {
        out.append(try Listener.bind(address, backlog: config.listenBacklog))
      } catch {
        for l in out { l.close() }
        throw .bind(address, error)
      }
    }
    return out
  }
}
