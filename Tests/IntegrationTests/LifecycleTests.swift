import Foundation
import Glibc
import SearchdConfig
import SearchdWire
import TestSupport
import Testing

@testable import IntegrationSupport

/// Start-up errors, signals and shutdown, as an operator meets them.
@Suite(.daemonSuite) struct LifecycleTests {
  @Test(arguments: [SIGTERM, SIGINT])
  func stopSignalAnswersEveryRequestReceivedThenExitsZero(_ sig: Int32) throws {
    let daemon = try Daemon()
    let perConnection = 100
    let clients = try (0..<20).map { _ in try TestClient(port: daemon.appPort) }
    for c in clients {
      try c.send((0..<perConnection).flatMap { i in Request.encodeSearch(i % 2 == 0 ? "morpheus" : "ring") })
    }
    daemon.signal(sig)
    for c in clients {
      for i in 0..<perConnection {
        let reply = try c.readMessage()
        #expect(reply == protocolVectors[i % 2].response, "reply \(i) lost or out of order")
        if reply == nil { break }
      }
      #expect(try c.closes(within: 5))
    }
    #expect(daemon.waitForExit(timeout: 10) == 0)
    // The exit can come before the log pipe's last line is read.
    #expect(daemon.waitForLog("searchd stopped", timeout: 5) != nil, "\(daemon.logText.suffix(300))")
  }

  @Test func idleConnectionsDoNotHoldUpShutdown() throws {
    let daemon = try Daemon(echo: true)
    let idle = try (0..<5).map { _ in try TestClient(port: daemon.appPort) }
    let echoIdle = try TestClient(port: daemon.echoPort)
    daemon.signal(SIGTERM)
    #expect(daemon.waitForExit(timeout: 5) == 0)
    for c in idle { #expect(try c.closes(within: 1)) }
    #expect(try echoIdle.closes(within: 1))
  }

  @Test func peerThatLeavesBeforeItsRepliesDoesNotKillTheDaemon() throws {
    let daemon = try Daemon()
    for _ in 0..<10 {
      let c = try TestClient(port: daemon.appPort)
      try c.send((0..<2000).flatMap { _ in Request.encodeSearch("morpheus") })
      c.close()
    }
    let c = try TestClient(port: daemon.appPort)
    try c.send(protocolVectors[0].request)
    #expect(try c.readMessage() == protocolVectors[0].response)
    #expect(daemon.process.isRunning)
  }

  @Test func portInUseFailsAtOnceWithAClearMessage() throws {
    let first = try Daemon()
    let r = try runProcess(Binaries.searchd, ["--listen", "127.0.0.1:\(first.appPort)"], timeout: 20)
    #expect(r.status == 1)
    #expect(r.stderr.contains("cannot listen on 127.0.0.1:\(first.appPort)"))
    #expect(r.stderr.contains("address already in use"))
  }

  @Test func unknownHostFailsAtOnce() throws {
    let r = try runProcess(Binaries.searchd, ["--listen", "no-such-host.invalid:1234"], timeout: 20)
    #expect(r.status == 1)
    #expect(r.stderr.contains("cannot resolve \"no-such-host.invalid\""))
  }

  @Test(arguments: [
    ["--threads", "0"], ["--listen", "nonsense"], ["--bogus"], ["--log-level", "loud"],
    ["--max-header-bytes", "70000"],
  ])
  func badFlagsAreUsageErrors(_ args: [String]) throws {
    let r = try runProcess(Binaries.searchd, args, timeout: 20)
    #expect(r.status == 64)
    #expect(r.stderr.contains("Error:"))
  }

  @Test func badIndexIsRefusedBeforeServing() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).json").path
    try Data(#"{"a": ["not", "a", "string"]}"#.utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try runProcess(Binaries.searchd, ["--listen", "127.0.0.1:0", "--index", path], timeout: 20)
    #expect(r.status == 1)
    #expect(r.stderr.contains("cannot load index \(path): the value of \"a\" is not a string"))
    #expect(!r.stderr.contains("ready"))
  }

  @Test func helpExplainsEveryFlag() throws {
    let r = try runProcess(Binaries.searchd, ["--help"], timeout: 20)
    #expect(r.status == 0)
    // Every setting's flag, with the start of its own help sentence (ArgumentParser wraps
    // long lines, so the first words are what can be matched).
    for s in Settings.all {
      #expect(r.stdout.contains("--\(s.name)"), "--\(s.name) missing from --help")
      let opening = s.summary.split(separator: " ").prefix(3).joined(separator: " ")
      #expect(r.stdout.contains(opening), "--\(s.name)'s help (\(opening)…) missing from --help")
    }
    #expect(r.stdout.contains("--config"))
  }

  @Test func connectionEventsAreLoggedAtDebugOnly() throws {
    let daemon = try Daemon()
    let c = try TestClient(port: daemon.appPort)
    try c.send(protocolVectors[0].request)
    _ = try c.readMessage()
    c.close()
    #expect(daemon.waitForLog("connection closed") != nil)
    #expect(daemon.logText.contains("connection accepted"))

    let quiet = try Daemon(["--log-level", "info"])
    let q = try TestClient(port: quiet.appPort)
    for _ in 0..<10 {
      try q.send(protocolVectors[0].request)
      _ = try q.readMessage()
    }
    q.close()
    quiet.stop()
    let lines = quiet.logText.split(separator: "\n")
    #expect(lines.count == 4, "starting, ready, stopping, stopped; got: \(lines)")
    #expect(!lines.contains { $0.contains("connection") || $0.contains("request served") })
  }
}
