import Foundation
import Glibc
import SearchdWire
import TestSupport
import Testing

@testable import IntegrationSupport

/// The request timeout runs from a message's first byte to its last, whatever part of it
/// the decoder has already taken, and never while searchd itself has stopped reading.
@Suite(.daemonSuite) struct DeadlineTests {
  /// A peer that stalls after the 2-byte length, or after a whole header without its
  /// content, gets the timeout reply at the request timeout (1 s), not the idle one (60 s):
  /// no later than one sweep (0.25 s) and scheduling slack after it.
  @Test(arguments: ["length", "header"])
  func aStallMidMessageIsRefusedAtTheRequestTimeout(stallAfter: String) throws {
    let daemon = try Daemon(["--request-timeout", "1", "--idle-timeout", "60"])
    let c = try TestClient(port: daemon.appPort)
    let request = protocolVectors[0].request
    let headerLength = Int(request[0]) << 8 | Int(request[1])
    let sent = stallAfter == "length" ? 2 : 2 + headerLength
    let start = Date()
    try c.send(Array(request.prefix(sent)))
    let reply = try #require(try c.readMessage(timeout: 5), "closed without a reply")
    let elapsed = Date().timeIntervalSince(start)
    #expect(replyFields(reply).error == "timeout")
    #expect(elapsed >= 1 && elapsed <= 2, "the timeout reply came \(elapsed) s after the first byte")
    #expect(try c.closes(within: 2))
  }

  /// 30,000 pipelined requests and no reads for 3 s with a 2 s request timeout: searchd
  /// stops reading with a message half read (at max-in-flight when a turn may answer more
  /// than that, or as its turn's replies wait to be written), and that wait is its own, so
  /// no timeout fires; every reply arrives, in order, once the client reads.
  @Test(arguments: [20, 200])
  func aPauseForFlowControlIsNotChargedToTheRequest(requestsPerWakeup: Int) throws {
    let daemon = try Daemon([
      "--request-timeout", "2", "--requests-per-wakeup", "\(requestsPerWakeup)", "--log-level", "info",
    ])
    let flood = try Flood(port: daemon.appPort, count: 30_000, hitEvery: 2)
    sleep(3)
    #expect(try flood.readAll() == 30_000)
    let stats = try daemon.stats()
    if requestsPerWakeup > 64 {
      #expect((stats["output_paused"] as? Int ?? 0) > 0, "reading paused at max-in-flight")
    }
    #expect(((stats["errors"] as? [String: Int])?["timeout"] ?? -1) == 0)
  }
}
