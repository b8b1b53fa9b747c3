import Foundation
import SearchdWire
import TestSupport

/// A client that pipelines many searches from another thread (the daemon stops reading,
/// so the write blocks until replies are read) and later checks every reply, in order.
struct Flood {
  let client: TestClient
  let count: Int
  private let hitEvery: Int

  /// Every `hitEvery`-th request searches `morpheus`, the others miss with their number.
  init(port: UInt16, count: Int, hitEvery: Int) throws {
    client = try TestClient(port: port)
    self.count = count
    self.hitEvery = hitEvery
    let requests = (0..<count).flatMap { i in Request.encodeSearch(i % hitEvery == 0 ? "morpheus" : "q\(i)") }
    let c = client
    Thread { try? c.send(requests) }.start()
  }

  /// Reads the replies; the number read before the stream ended. A wrong reply throws,
  /// naming it.
  func readAll() throws -> Int {
    for i in 0..<count {
      let expected = i % hitEvery == 0 ? protocolVectors[0].response : Reply.noMatch(query: Array("q\(i)".utf8))
      guard let reply = try client.readMessage(timeout: 10) else { return i }
      if reply != expected {
        throw CheckFailed(description: "reply \(i) is \(replyFields(reply)), not the answer to request \(i)")
      }
    }
    return count
  }
}
