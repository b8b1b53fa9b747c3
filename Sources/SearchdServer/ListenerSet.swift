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
        let service = Service(rawValue: fd.name) ?? .app
        do {
          out.append(ServiceListener(listener: try Listener.adopt(descriptor: fd.descriptor), service: service))
        } catch {
          for l in out { l.listener.close() }
          throw .systemd(error)
        }
      }
      return out
    }
    var out: [ServiceListener] = []
    do {
      for endpoint in config.listen { out += try bind(endpoint, config).map { .init(listener: $0, service: .app) } }
      for endpoint in config.echoListen {
        out += try bind(endpoint, config).map { .init(listener: $0, service: .echo) }
      }
      for endpoint in config.tlsListen {
        out += try bind(endpoint, config).map { .init(listener: $0, service: .appTLS) }
      }
    } catch {
      for l in out { l.listener.close() }
      throw error
    }
    return out
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
