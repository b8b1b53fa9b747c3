import Foundation
import Glibc
import SearchdWire
import TestSupport
import Testing

@testable import IntegrationSupport

/// Running out of descriptors, and a peer that sends far more than it reads.
@Suite(.daemonSuite) struct OverloadTests {
  /// RELIABILITY #37: under `prlimit --nofile=64`, 200 connects never make the daemon spin,
  /// the excess is shed, and it recovers fully once they close.
  /// On each backend here: the sanitizer runs, one per backend, skip it (see the Makefile).
  @Test(arguments: ["epoll", "io_uring"]) func descriptorExhaustionIsShedWithoutSpinning(_ backend: String) throws {
    // Twelve loops hold 36 descriptors of their own, so accept meets EMFILE well before
    // max-connections (64 - 32) is reached.
    let daemon = try Daemon(["--threads", "12", "--log-level", "info", "--io-backend", backend], nofile: 64)
    var clients: [TestClient] = []
    for _ in 0..<200 { clients.append(try TestClient(port: daemon.appPort)) }
    usleep(500_000)
    let cpuBefore = daemon.cpuSeconds
    sleep(3)
    let cpu = daemon.cpuSeconds - cpuBefore
    #expect(cpu >= 0 && cpu < 0.3, "the daemon used \(cpu) s of CPU in 3 s while out of descriptors")

    // The excess was told no (a too-many-connections reply, or a plain close), not left hanging.
    var shed = 0
    var served = 0
    for c in clients {
      if try c.closes(within: 0.05) {
        shed += 1
      } else {
        served += 1
      }
    }
    // At most 64 descriptors exist, so at least 136 must have been shed, and none left waiting.
    #expect(shed >= 200 - 64, "shed \(shed), still open \(served)")
    #expect(daemon.process.isRunning)
    for c in clients { c.close() }

    // Full recovery: new connections are served again.
    var recovered = false
    for _ in 0..<50 where !recovered {
      usleep(100_000)
      if let c = try? TestClient(port: daemon.appPort) {
        try? c.send(protocolVectors[0].request)
        recovered = (try? c.readMessage(timeout: 2)) == protocolVectors[0].response
      }
    }
    #expect(recovered)
    let stats = try daemon.stats()
    #expect((stats["emfile_events"] as? Int ?? 0) > 0, "accept met EMFILE and the spare descriptor shed it")
  }

  /// RELIABILITY #32: 20,000 pipelined requests, replies not read for 5 s: memory stays
  /// bounded (reading pauses at max-in-flight, which a turn of 200 requests reaches), then
  /// every reply arrives, in order, once.
  @Test func pipelineFloodIsBackpressuredThenFullyAnswered() throws {
    let daemon = try Daemon(["--requests-per-wakeup", "200", "--log-level", "info"])
    let bystander = try TestClient(port: daemon.appPort)
    let baseline = daemon.rssKiB
    let flood = try Flood(port: daemon.appPort, count: 20_000, hitEvery: 3)
    sleep(5)
    let rss = daemon.rssKiB
    // ASan's quarantine holds freed memory on purpose; the plain run checks the bound.
    if ProcessInfo.processInfo.environment["SEARCHD_SANITIZER"] != "address" {
      #expect(rss - baseline < 16 * 1024, "RSS grew by \(rss - baseline) KiB while replies were unread")
    }
    try bystander.send(protocolVectors[1].request)
    #expect(try bystander.readMessage(timeout: 1) == protocolVectors[1].response, "others are served meanwhile")
    #expect(try flood.readAll() == 20_000)
    let stats = try daemon.stats()
    #expect((stats["output_paused"] as? Int ?? 0) > 0, "reading paused at the watermark")
  }
}
