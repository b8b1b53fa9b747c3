import Foundation
import Glibc
import SearchdSystem
import SearchdWire
import TestSupport
import Testing

@testable import IntegrationSupport

/// RELIABILITY #38: 10,000 inputs of random bytes (the fuzz corpus, then mutated requests
/// and plain noise) on real sockets. Each connection must end, by a close or by replies
/// and a close, with nothing but whole messages on the wire; the daemon must not notice.
@Suite(.daemonSuite) struct RandomInputTests {
  static let total = 10_000

  static func inputs() -> [[UInt8]] {
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    var dirs = [here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")]
    if let extra = ProcessInfo.processInfo.environment["FUZZ_CORPUS"] { dirs.append(URL(fileURLWithPath: extra)) }
    // A fuzz input's first byte picks its read sizes; the stream is the rest.
    var out: [[UInt8]] = dirs.flatMap { dir in
      ((try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? [])
        .compactMap { try? Data(contentsOf: $0) }.map { Array($0.dropFirst()) }
    }
    out = Array(out.prefix(total / 2))
    var rng = SplitMix64(state: 38)
    while out.count < total {
      if out.count % 2 == 0 {
        // A request with a few bytes flipped: mostly well framed, sometimes not.
        var bytes = protocolVectors[Int.random(in: 0..<protocolVectors.count, using: &rng)].request
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
          bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
        }
        out.append(bytes)
      } else {
        out.append((0..<Int.random(in: 1...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
      }
    }
    return out
  }

  /// What one connection saw: whether it ended, and whether its bytes were whole messages.
  struct Ending: Sendable {
    var ended = false
    var wholeMessages = true
  }

  static func replay(_ bytes: [UInt8], port: UInt16) -> Ending {
    var ending = Ending()
    guard let c = try? TestClient(port: port) else { return ending }
    defer { c.close() }
    // The server may close before it has read everything: a failed send is such an end.
    try? c.send(bytes)
    try? c.socket.shutdown(.write)
    while true {
      do {
        guard try c.readMessage(timeout: 5) != nil else {
          ending.ended = true
          return ending
        }
      } catch is TestTimeout {
        return ending
      } catch {
        ending.wholeMessages = false
        ending.ended = true
        return ending
      }
    }
  }

  @Test func tenThousandRandomInputsEachEndCleanly() throws {
    let daemon = try Daemon(["--log-level", "info"])
    let bystander = try daemon.servedBystander()
    let fds = daemon.openFDCount
    let rss = daemon.rssKiB

    let inputs = Self.inputs()
    #expect(inputs.count == Self.total)
    let port = daemon.appPort
    let lanes = 8
    let results = Locked([Ending]())
    DispatchQueue.concurrentPerform(iterations: lanes) { lane in
      var mine: [Ending] = []
      for i in stride(from: lane, to: inputs.count, by: lanes) { mine.append(Self.replay(inputs[i], port: port)) }
      results.withLock { $0 += mine }
    }
    let endings = results.withLock { $0 }
    #expect(endings.count == Self.total)
    #expect(endings.filter { !$0.ended }.count == 0, "connections left hanging")
    #expect(endings.filter { !$0.wholeMessages }.count == 0, "connections that carried a broken message")
    // Every input reached the daemon, and most were refused as the garbage they are.
    let stats = try daemon.stats()
    #expect((stats["connections"] as? [String: Any])?["total"] as? Int ?? 0 > Self.total)
    let errors = (stats["errors"] as? [String: Int] ?? [:]).values.reduce(0, +)
    #expect(errors > Self.total / 2, "\(errors) error replies")
    try daemon.expectUnharmed(bystander: bystander, fds: fds, rssKiB: rss)
  }
}
