import ArgumentParser
import SearchdClient
import SearchdWire

struct Suggest: AsyncParsableCommand, ConnectingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the keys the text probably meant: a prefix of each is within a few typos of it.",
    discussion: """
      One line per key, best first: the key, its value and its typos, tab-separated.
      Exit status: 0 suggestions found, 1 none, 2 cannot connect or timed out, 3 error reply.
      """)

  @ParentCommand var searchctl: SearchCtl
  @OptionGroup var own: ConnectionOptions

  @Argument(help: "What was typed, e.g. morphues.")
  var text: String

  @Option(help: "Typos allowed, 0 to 2 (default: none below 4 characters, 1 below 8, else 2).")
  var typos: Int?

  @Option(help: "Most suggestions, 1 to 100 (default: 10).")
  var limit: Int?

  func run() async throws {
    let frame = try await exchange(Request.encodeSuggest(text, limit: limit, typos: typos))
    let status: ExitStatus
    var lines: [String] = []
    do {
      let found = try Replies.suggestions(frame)
      status = found.items.isEmpty ? .noMatch : .found
      for s in found.items { lines.append("\(s.key)\t\(s.value)\t\(s.typos == 1 ? "1 typo" : "\(s.typos) typos")") }
      if !found.complete && !options.json {
        printErr("searchctl: the server stopped at its suggest-max-visits limit; these are the best it found before it")
      }
    } catch {
      status = .errorReply
      lines = [
        (try? Replies.object(frame)).flatMap { $0["result"] as? String }
          ?? String(decoding: frame.content, as: UTF8.self)
      ]
    }
    if options.json {
      options.output.printJSON(frame, status: status)
    } else {
      for line in lines { options.output.line(line) }
    }
    if status != .found { exitWith(status) }
  }
}
