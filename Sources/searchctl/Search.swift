import ArgumentParser
import SearchdClient
import SearchdWire

struct Search: AsyncParsableCommand, ConnectingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Search the index and print the result.",
    discussion: "Exit status: 0 found, 1 no match, 2 cannot connect or timed out, 3 error reply.")

  @ParentCommand var searchctl: SearchCtl
  @OptionGroup var own: ConnectionOptions

  @Argument(help: "What to look up, e.g. morpheus.")
  var value: String

  @Option(
    help: ArgumentHelp("Send this action instead of search (to try the server's error path).", visibility: .hidden))
  var action: String = "search"

  func run() async throws {
    let frame = try await exchange(Request.encodeSearch(value, action: action))
    var status: ExitStatus
    var line: String
    do {
      let found = try Replies.search(frame, key: value)
      // An unknown action that the server answers anyway (the tutorial's) is still an error.
      status = action != "search" ? .errorReply : found == nil ? .noMatch : .found
      line = found ?? "No match for \"\(value)\"."
      if action != "search" { line = try Replies.resultLine(try Replies.object(frame)) }
    } catch {
      // The server answered, but not with a value or a miss.
      status = .errorReply
      line =
        (try? Replies.object(frame)).flatMap { $0["result"] as? String }
        ?? String(decoding: frame.content, as: UTF8.self)
    }
    if options.json {
      options.output.printJSON(frame, status: status)
    } else {
      options.output.line(line)
    }
    if status != .found { exitWith(status) }
  }
}
