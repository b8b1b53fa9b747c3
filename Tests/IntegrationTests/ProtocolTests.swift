import Foundation
import SearchdWire
import TestSupport
import Testing

@testable import IntegrationSupport

/// The real daemon over real sockets: the captured vectors, keep-alive, pipelining.
@Suite(.daemonSuite) struct ProtocolTests {
  @Test func everyVectorIsAnsweredByteForByte() throws {
    let daemon = try Daemon()
    for v in protocolVectors {
      let c = try TestClient(port: daemon.appPort)
      try c.send(v.request)
      #expect(try c.readMessage() == v.response, "\(v.name)")
      c.close()
    }
  }

  @Test func keepAliveServesManyRequestsOnOneConnection() throws {
    let daemon = try Daemon()
    let c = try TestClient(port: daemon.appPort)
    for round in 0..<3 {
      for v in protocolVectors {
        try c.send(v.request)
        #expect(try c.readMessage() == v.response, "round \(round): \(v.name)")
      }
    }
  }

  @Test func pipelinedRequestsInOneWriteAreAnsweredInOrder() throws {
    let daemon = try Daemon()
    let c = try TestClient(port: daemon.appPort)
    let rounds = 200
    try c.send((0..<rounds).flatMap { _ in protocolVectors.flatMap(\.request) })
    for _ in 0..<rounds {
      for v in protocolVectors { #expect(try c.readMessage() == v.response) }
    }
  }

  @Test func requestSentOneByteAtATimeIsServed() throws {
    let daemon = try Daemon()
    let c = try TestClient(port: daemon.appPort)
    for b in protocolVectors[0].request {
      try c.send([b])
      usleep(2_000)
    }
    #expect(try c.readMessage() == protocolVectors[0].response)
  }

  @Test func replyIsDeliveredAfterTheClientHalfCloses() throws {
    let daemon = try Daemon()
    let c = try TestClient(port: daemon.appPort)
    try c.send(protocolVectors[0].request)
    try c.socket.shutdown(.write)
    #expect(try c.readMessage() == protocolVectors[0].response)
    #expect(try c.closes(within: 2))
  }

  @Test func customIndexFile() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("idx-\(UUID()).json").path
    try Data(#"{"neo": "The One \"chosen\"", "morpheus": "captain"}"#.utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let daemon = try Daemon(["--index", path])
    let c = try TestClient(port: daemon.appPort)
    try c.send(Request.encodeSearch("neo"))
    #expect(replyFields(try c.readMessage()!).result == "The One \"chosen\"")
    try c.send(Request.encodeSearch("ring"))
    #expect(replyFields(try c.readMessage()!).result == "No match for \"ring\".")
  }

  @Test func unixSocketListener() throws {
    let path = "/tmp/searchd-test-\(UUID().uuidString.prefix(8)).sock"
    let daemon = try Daemon(["--listen", "unix:\(path)"])
    let r = try searchctl(["search", "--unix", path, "morpheus"])
    #expect(r.status == 0)
    #expect(r.stdout == "Follow the white rabbit. \u{1F430}\n")
    daemon.stop()
    #expect(!FileManager.default.fileExists(atPath: path), "the socket file is removed on exit")
  }
}
