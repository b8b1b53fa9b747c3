import ArgumentParser
import SearchdClient

struct Ping: AsyncParsableCommand, ConnectingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check that the server answers this protocol.",
    discussion: "Exit status: 0 alive, 2 not reachable or not answering this protocol in time.")

  @ParentCommand var searchctl: SearchCtl
  @OptionGroup var own: ConnectionOptions

  func run() async throws {
    let client = try client()
    defer { client.close() }
    do {
      try await client.ping()
    } catch {
      if options.json { options.output.line("{\"alive\":false}") }
      exitWith(.unavailable, error.description)
    }
    options.output.line(options.json ? "{\"alive\":true}" : "\(client.configuration.endpoint) is alive")
  }
}
