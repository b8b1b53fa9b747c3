import Foundation
import Glibc
import Testing

@testable import IntegrationSupport

/// A client and a server written in the tutorial's style (Python, stdlib only) against
/// searchd and searchctl: the wire is the same both ways.
@Suite(.daemonSuite) struct InteropTests {
  private let python = URL(fileURLWithPath: "/usr/bin/env")

  @Test(arguments: [
    ("search", "morpheus", "got result: Follow the white rabbit. \u{1F430}"),
    ("search", "\u{1F436}", "got result: \u{1F43E} Playing ball! \u{1F3D0}"),
    ("search", "needle", "got result: No match for \"needle\"."),
    ("binary", "\u{1F603}", "got response: b'First 10 bytes of request: binary\\xf0\\x9f\\x98\\x83'"),
    ("find", "x", "got response: b'First 10 bytes of request: findx'"),
  ])
  func tutorialClientAgainstSearchd(_ action: String, _ value: String, _ expected: String) throws {
    let daemon = try Daemon()
    let script = Binaries.python.appendingPathComponent("tutorial_client.py").path
    let r = try runProcess(python, ["python3", script, "127.0.0.1", "\(daemon.appPort)", action, value])
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains(expected), "\(r.stdout)")
  }

  @Test func searchctlAgainstTheTutorialServer() throws {
    let server = try TutorialServer()
    // ARC may end a local's life at its last use: keep the server up for the whole test.
    defer { withExtendedLifetime(server) {} }
    let port = server.port

    let hit = try searchctl(["search", "-p", port, "morpheus"])
    #expect(hit.status == 0)
    #expect(hit.stdout == "Follow the white rabbit. \u{1F430}\n")
    let miss = try searchctl(["search", "-p", port, "nothing"])
    #expect(miss.status == 1)
    #expect(miss.stdout == "No match for \"nothing\".\n")
    let bin = try searchctl(["binary", "-p", port, "binary\u{1F603}"])
    #expect(bin.status == 0)
    #expect(bin.stdout == "First 10 bytes of request: binary\u{1F603}\n")
  }
}
