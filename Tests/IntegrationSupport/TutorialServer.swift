import Foundation
import Glibc

/// The tutorial's Python server on a port of its choosing, killed when this goes away.
final class TutorialServer {
  private let process = ChildProcess()
  let port: String

  init() throws {
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "python3", Binaries.python.appendingPathComponent("tutorial_server.py").path, "127.0.0.1", "0",
    ]
    let out = Pipe()
    process.standardOutput = out
    let lines = LineCollector()
    lines.follow(out.fileHandleForReading)
    try process.run()
    guard let line = lines.waitFor("listening on", timeout: 10) else {
      kill(process.processIdentifier, SIGKILL)
      throw TestTimeout()
    }
    // "listening on ('127.0.0.1', 41234)"
    port = String(line.split(separator: ",").last!.prefix { $0 != ")" }).trimmingCharacters(in: .whitespaces)
  }

  deinit {
    // Foundation's Process starts children with most signals blocked, SIGTERM included.
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }
}
