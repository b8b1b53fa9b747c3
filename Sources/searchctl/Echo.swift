import ArgumentParser
import Foundation
import SearchdClient
import SearchdSystem

struct Echo: AsyncParsableCommand, ConnectingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Talk to an echo service (port $SEARCHD_ECHO_PORT or 65433 unless told otherwise).",
    discussion: """
      With --connections N, runs the tutorial's multi-connection client: N connections at once, each sending its messages, checking every byte comes back, then closing. Exit status: 0 every byte echoed, 2 cannot connect, 3 a mismatch.
      """)

  @ParentCommand var searchctl: SearchCtl
  @OptionGroup var own: ConnectionOptions

  @Argument(help: "The message to send (default with --connections: the tutorial's two messages).")
  var message: String?

  @Option(help: "Connections to open at once.")
  var connections: Int?

  func validate() throws {
    if message == nil && connections == nil { throw ValidationError("give a MESSAGE, or --connections N") }
    if let n = connections, !(1...10_000).contains(n) { throw ValidationError("--connections must be from 1 to 10000") }
  }

  func run() async throws {
    let configuration = try options.configuration(.echo)
    let messages =
      message.map { [Array($0.utf8)] } ?? [Array("Message 1 from client.".utf8), Array("Message 2 from client.".utf8)]
    let n = connections ?? 1
    let output = options.output
    let expected = messages.flatMap { $0 }
    // All N connect before any exchange starts, so the server holds them all at once.
    let results: [[UInt8]]
    do {
      results = try await offThread { () throws(ClientError) -> [[UInt8]] in
        let connections = try (0..<n).map { _ throws(ClientError) in
          try Connection.connect(to: configuration.endpoint, tls: configuration.tls, timeout: configuration.timeout)
        }
        defer { for c in connections { c.close() } }
        return try connections.enumerated().map { (i, c) throws(ClientError) in
          for m in messages { output.sent(m, to: "connection \(i + 1)") }
          let got = try c.echo(expected)
          output.received(got, from: "connection \(i + 1)")
          return got
        }
      }
    } catch {
      exitWith(.unavailable, error.description)
    }
    let intact = results.filter { $0 == expected }.count
    if options.json {
      output.printJSON([
        "sent_bytes": expected.count, "connections": n, "intact": intact,
        "received_text": connections == nil ? String(decoding: results[0], as: UTF8.self) : NSNull(),
      ])
    } else if connections == nil {
      output.line(String(decoding: results[0], as: UTF8.self))
    } else {
      for (i, got) in results.enumerated() {
        output.line(
          "connection \(i + 1): sent \(expected.count) bytes, received \(got.count) bytes, "
            + (got == expected ? "echoed intact" : "MISMATCH"))
      }
      output.line("\(intact) of \(n) connections echoed every byte")
    }
    if intact < n { exitWith(.errorReply) }
  }
}
