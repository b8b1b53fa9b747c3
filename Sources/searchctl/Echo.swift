import ArgumentParser
import SearchdSystem

struct Echo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Talk to an echo service (port 65433 unless told otherwise).",
    discussion: """
      With --connections N, runs the tutorial's multi-connection client: N connections at once, each sending its messages, checking every byte comes back, then closing.
      """)

  @OptionGroup var options: ConnectionOptions

  @Argument(help: "The message to send (default with --connections: the tutorial's two messages).")
  var message: String?

  @Option(help: "Connections to open at once.")
  var connections: Int?

  func validate() throws {
    if message == nil && connections == nil { throw ValidationError("give a MESSAGE, or --connections N") }
    if let n = connections, !(1...10_000).contains(n) { throw ValidationError("--connections must be from 1 to 10000") }
  }

  func run() throws {
    let target = try options.target(defaultPort: 65433)
    let messages =
      message.map { [Array($0.utf8)] } ?? [Array("Message 1 from client.".utf8), Array("Message 2 from client.".utf8)]
    let n = connections ?? 1
    let clients: [Client]
    do {
      clients = try (0..<n).map { _ throws(ClientError) in try Client.connect(to: target, timeout: options.timeout) }
    } catch {
      exitWith(.unavailable, error.description)
    }
    // All N are connected before any exchange starts, so the server holds them all at once.
    var failures = 0
    let expected = messages.flatMap { $0 }
    do {
      for (i, c) in clients.enumerated() {
        for m in messages { options.output.sent(m, to: "connection \(i + 1)") }
        let got = try c.echo(expected)
        options.output.received(got, from: "connection \(i + 1)")
        c.close()
        let ok = got == expected
        if !ok { failures += 1 }
        if connections == nil {
          options.output.line(String(decoding: got, as: UTF8.self))
        } else {
          options.output.line(
            "connection \(i + 1): sent \(expected.count) bytes, received \(got.count) bytes, "
              + (ok ? "echoed intact" : "MISMATCH"))
        }
      }
    } catch {
      exitWith(.unavailable, error.description)
    }
    if connections != nil {
      options.output.line("\(n - failures) of \(n) connections echoed every byte")
    }
    if failures > 0 { exitWith(.errorReply) }
  }
}
