import Foundation
import Glibc
import Testing

/// A client and a server written in the tutorial's style (Python, stdlib only) against
/// searchd and searchctl: the wire is the same both ways.
@Suite(.timeLimit(.minutes(2))) struct InteropTests {
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
    let server = Process()
    server.executableURL = python
    server.arguments = ["python3", Binaries.python.appendingPathComponent("tutorial_server.py").path, "127.0.0.1", "0"]
    let out = Pipe()
    server.standardOutput = out
    let lines = LineCollector()
    lines.follow(out.fileHandleForReading)
    try server.run()
    defer {
      // Foundation's Process starts children with most signals blocked, SIGTERM included.
      kill(server.processIdentifier, SIGKILL)
      server.waitUntilExit()
    }
    let line = try #require(lines.waitFor("listening on", timeout: 10))
    let port = String(line.split(separator: ",").last!.prefix { $0 != ")" }).trimmingCharacters(in: .whitespaces)

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
