import Foundation
import Glibc

/// A server that is not searchd: it accepts on a loopback port and runs `behave` on each
/// connection (its number from 1) on a thread of its own. For the clients' bad-input tests.
final class ScriptedPeer: @unchecked Sendable {
  let port: UInt16
  private let fd: Int32
  private let accepted = Counter()

  /// How many connections the peer has accepted.
  var connections: Int { accepted.value }

  private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func next() -> Int {
      lock.withLock {
        count += 1
        return count
      }
    }
  }

  init(_ behave: @escaping @Sendable (_ fd: Int32, _ n: Int) -> Void) throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    self.fd = fd
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
        bind(fd, p, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, p, &length) == 0
      }
    }
    guard bound else { throw CheckFailed(description: "the scripted peer cannot listen: errno \(errno)") }
    port = UInt16(bigEndian: addr.sin_port)
    let listening = fd
    let accepted = self.accepted
    Thread {
      while true {
        let c = accept(listening, nil, nil)
        if c < 0 {
          close(listening)
          return
        }
        let n = accepted.next()
        Thread {
          behave(c, n)
          close(c)
        }.start()
      }
    }.start()
  }

  deinit { shutdown(fd, Int32(SHUT_RDWR)) }

  /// Reads one request of the tutorial's framing (header and content), or gives up at the end.
  static func readRequest(_ c: Int32) {
    guard let head = read(c, 2) else { return }
    guard let header = read(c, Int(head[0]) << 8 | Int(head[1])),
      let object = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any],
      let length = object["content-length"] as? Int
    else { return }
    _ = read(c, length)
  }

  /// Exactly `n` bytes, or nil at the end of the stream.
  static func read(_ c: Int32, _ n: Int) -> [UInt8]? {
    var out = [UInt8](repeating: 0, count: n)
    var got = 0
    while got < n {
      let r = out.withUnsafeMutableBytes { recv(c, $0.baseAddress! + got, n - got, 0) }
      if r <= 0 { return nil }
      got += r
    }
    return out
  }

  static func write(_ c: Int32, _ bytes: [UInt8]) {
    var sent = 0
    while sent < bytes.count {
      let r = bytes.withUnsafeBytes { send(c, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
      if r <= 0 { return }
      sent += r
    }
  }
}
