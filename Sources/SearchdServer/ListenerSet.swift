import SearchdSystem

/// Opens the sockets to serve: the ones systemd passed, picked by name, or else
/// the configured addresses, every address a host name resolves to.
public enum ListenerSet {
  public static func open(_ config: ServerConfig) throws(ServerError) -> [Listener] {
    let passed: [(descriptor: Int32, name: String)]
    do { passed = try Systemd.listenFDs() } catch { throw .systemd(error) }
    if !passed.isEmpty {
      var out: [Listener] = []
      for fd in passed {
        // systemd's order is not guaranteed; the names say what each socket is for.
        let name = fd.name == "echo" ? "echo" : "app"
        do { out.append(try Listener.adopt(descriptor: fd.descriptor, name: name)) } catch { throw .systemd(error) }
      }
      return out
    }
    var out: [Listener] = []
    do {
      for endpoint in config.listen { out += try bind(endpoint, name: "app", config) }
      for endpoint in config.echoListen { out += try bind(endpoint, name: "echo", config) }
    } catch {
      for l in out { l.close() }
      throw error
    }
    return out
  }

  private static func bind(_ endpoint: Endpoint, name: String, _ config: ServerConfig) throws(ServerError) -> [Listener]
  {
    let addresses: [SocketAddress]
    do { addresses = try endpoint.resolve(passive: true) } catch { throw .resolve(error) }
    guard !addresses.isEmpty else { throw .noAddress(endpoint) }
    var out: [Listener] = []
    for address in addresses {
      do {
        out.append(try Listener.bind(address, name: name, backlog: config.listenBacklog))
      } catch {
        for l in out { l.close() }
        throw .bind(address, error)
      }
    }
    return out
  }
}
