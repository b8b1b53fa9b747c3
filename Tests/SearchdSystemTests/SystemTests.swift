import Glibc
import SearchdSystem
import Testing

/// The syscall wrappers against real kernel behaviour.
@Suite(.timeLimit(.minutes(10))) struct SystemTests {
  @Test(arguments: [
    ("127.0.0.1:65432", Endpoint.host("127.0.0.1", port: 65432)),
    ("[::1]:80", Endpoint.host("::1", port: 80)),
    ("localhost:1", Endpoint.host("localhost", port: 1)),
    ("unix:/run/x.sock", Endpoint.unix(path: "/run/x.sock")),
  ])
  func parsesEndpoints(_ text: String, _ expected: Endpoint) throws {
    #expect(try Endpoint(parsing: text) == expected)
    #expect(expected.description == text)
  }

  @Test(arguments: ["127.0.0.1", "host:-1", "host:65536", "host:x", "unix:", "[::1]80"])
  func refusesBadEndpoints(_ text: String) {
    #expect(throws: Endpoint.ParseError.self) { try Endpoint(parsing: text) }
  }

  @Test func resolvesLocalhostToLoopback() throws {
    let addrs = try Endpoint.host("localhost", port: 9).resolve()
    #expect(addrs.contains(.ipv4(host: [127, 0, 0, 1], port: 9)))
    #expect(addrs.allSatisfy { "\($0)".hasSuffix(":9") })
  }

  @Test func unknownHostIsAResolveError() {
    #expect(throws: ResolveError.self) { try Endpoint.host("no-such-host.invalid", port: 1).resolve() }
  }

  @Test func bindingABusyPortNamesTheCallAndErrno() throws {
    let first = try Listener.bind(.ipv4(host: [127, 0, 0, 1], port: 0), backlog: 8)
    defer { first.close() }
    guard case .ipv4(_, let port)? = first.address else {
      Issue.record("no address")
      return
    }
    #expect {
      try Listener.bind(.ipv4(host: [127, 0, 0, 1], port: port), backlog: 8)
    } throws: { error in
      guard let e = error as? SystemError else { return false }
      return e.errno == .addressInUse && e.call == "bind"
    }
  }

  @Test func connectToAClosedPortIsRefused() throws {
    let probe = try Listener.bind(.ipv4(host: [127, 0, 0, 1], port: 0), backlog: 1)
    let address = probe.address!
    probe.close()
    let s = try Socket(family: AF_INET, nonBlocking: false)
    #expect {
      _ = try s.connect(to: address)
    } throws: { ($0 as? SystemError)?.errno == .connectionRefused }
  }

  @Test func readWouldBlockThenDataThenEOF() throws {
    let listener = try Listener.bind(.ipv4(host: [127, 0, 0, 1], port: 0), backlog: 1)
    defer { listener.close() }
    let client = try Socket(family: AF_INET, nonBlocking: false)
    _ = try client.connect(to: listener.address!)
    var server: Socket?
    for _ in 0..<100 {
      if case .processed(let s) = try listener.socket.accept() {
        server = s
        break
      }
      usleep(10_000)
    }
    let s = try #require(server)
    var buf = [UInt8](repeating: 0, count: 16)
    #expect(try buf.withUnsafeMutableBytes { try s.read(into: $0) } == .wouldBlock)
    _ = try [UInt8]([1, 2, 3]).withUnsafeBytes { try client.write($0) }
    _ = try Poll.wait([(s.descriptor, .readable)], timeoutMs: 1000)
    #expect(try buf.withUnsafeMutableBytes { try s.read(into: $0) } == .processed(3))
    client.close()
    _ = try Poll.wait([(s.descriptor, .readable)], timeoutMs: 1000)
    #expect(try buf.withUnsafeMutableBytes { try s.read(into: $0) } == .processed(0))
    // Writing to a closed peer is an error value, not a SIGPIPE death, even with SIGPIPE's
    // default disposition (which kills): send and sendmsg pass MSG_NOSIGNAL.
    let previous = signal(SIGPIPE, SIG_DFL)
    defer { signal(SIGPIPE, previous) }
    var sawError = false
    for _ in 0..<10 {
      do { _ = try [UInt8]([1]).withUnsafeBytes { try s.write($0) } } catch let e as SystemError {
        sawError = [Errno.brokenPipe, .connectionReset].contains(e.errno)
        break
      }
      usleep(10_000)
    }
    #expect(sawError)
    var one: [UInt8] = [1]
    #expect(throws: SystemError.self) {
      try one.withUnsafeMutableBytes { bytes in
        var iov = iovec(iov_base: bytes.baseAddress, iov_len: 1)
        _ = try withUnsafeMutablePointer(to: &iov) { try s.writev(UnsafeMutableBufferPointer(start: $0, count: 1)) }
      }
    }
    s.close()
  }

  /// EINTR is retried, however often it comes; another error is reported, naming the call.
  /// (Injected: debug builds compile the fault plan in, as swift-system does its mocking.)
  @Test func interruptedCallsAreRetriedAndOtherErrorsReported() throws {
    let listener = try Listener.bind(.ipv4(host: [127, 0, 0, 1], port: 0), backlog: 8)
    defer { listener.close() }
    let client = try Socket(family: AF_INET, nonBlocking: false)
    defer { client.close() }
    _ = try client.connect(to: listener.address!)
    _ = try Poll.wait([(listener.socket.descriptor, .readable)], timeoutMs: 1000)
    let interrupts = SyscallFaults([.interrupted, .interrupted, .interrupted])
    let accepted = try SyscallFaults.$current.withValue(interrupts) { try listener.socket.acceptWithPeer() }
    #expect(interrupts.injected == 3)
    guard case .processed(let (server, _)) = accepted else {
      Issue.record("accept was not retried after EINTR")
      return
    }
    defer { server.close() }
    let write = SyscallFaults([.interrupted])
    let sent = try SyscallFaults.$current.withValue(write) {
      try [UInt8]([7, 8]).withUnsafeBytes { try client.write($0) }
    }
    #expect(sent == .processed(2))
    #expect(write.injected == 1)
    _ = try Poll.wait([(server.descriptor, .readable)], timeoutMs: 1000)
    var buf = [UInt8](repeating: 0, count: 4)
    let read = SyscallFaults([.interrupted, .interrupted])
    let got = try SyscallFaults.$current.withValue(read) {
      try buf.withUnsafeMutableBytes { try server.read(into: $0) }
    }
    #expect(got == .processed(2))
    #expect(buf.prefix(2) == [7, 8])
    // EAGAIN is not an error on a non-blocking socket, and ECONNRESET is, named.
    let again = SyscallFaults([.wouldBlock])
    #expect(
      try SyscallFaults.$current.withValue(again) { try buf.withUnsafeMutableBytes { try server.read(into: $0) } }
        == .wouldBlock)
    let reset = SyscallFaults([.connectionReset])
    #expect {
      try SyscallFaults.$current.withValue(reset) { try buf.withUnsafeMutableBytes { try server.read(into: $0) } }
    } throws: { ($0 as? SystemError)?.errno == .connectionReset && ($0 as? SystemError)?.call == "read" }
  }

  /// The event loop's wait is retried after EINTR too.
  @Test func anInterruptedEpollWaitIsRetried() throws {
    let epoll = try Epoll()
    let buffer = EpollEventBuffer(capacity: 4)
    let faults = SyscallFaults([.interrupted, .interrupted])
    let n = try SyscallFaults.$current.withValue(faults) { try epoll.wait(into: buffer, timeoutMs: 0) }
    #expect(n == 0)
    #expect(faults.injected == 2)
  }

  @Test func unixListenerReplacesAStaleSocketFile() throws {
    let path = "/tmp/searchd-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
    let first = try Listener.bind(.unix(path: path), backlog: 1)
    first.socket.close()  // leaves the file behind, as a crash would
    let second = try Listener.bind(.unix(path: path), backlog: 1)
    #expect(access(path, F_OK) == 0)
    second.close()
    #expect(access(path, F_OK) != 0)
  }

  @Test func notifyWithoutSystemdIsANoOp() throws {
    #expect(Systemd.notify("READY=1") == false || getenv("NOTIFY_SOCKET") != nil)
    #expect(try Systemd.listenFDs().isEmpty)
  }
}
