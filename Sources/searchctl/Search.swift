import ArgumentParser
import Foundation
import SearchdWire

struct Search: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Search the index and print the result.",
    discussion: "Exit status: 0 found, 1 no match, 2 cannot connect or timed out, 3 error reply.")

  @OptionGroup var options: ConnectionOptions

  @Argument(help: "What to look up, e.g. morpheus.")
  var value: String

  @Option(
    help: ArgumentHelp("Send this action instead of search (to try the server's error path).", visibility: .hidden))
  var action: String = "search"

  func run() throws {
    let target = try options.target(defaultPort: 65432)
    let request = Request.encodeSearch(value, action: action)
    let frame = Exchange.requestReply(
      request, target: target, timeout: options.timeout, output: options.output, retryIfUnanswered: true)
    let reply = SearchReply(frame)
    let status: ExitStatus
    if reply.errorCode != nil || reply.result == nil {
      status = .errorReply
    } else if reply.result == "No match for \"\(value)\"." {
      status = .noMatch
    } else if action != "search" {
      status = .errorReply
    } else {
      status = .found
    }
    if options.json {
      options.output.printJSON(frame, status: status)
    } else if let result = reply.result {
      options.output.line(result)
    } else {
      options.output.line(String(decoding: frame.content, as: UTF8.self))
    }
    if status != .found { exitWith(status) }
  }
}

/// The fields of a JSON reply searchctl cares about.
struct SearchReply {
  var result: String?
  var errorCode: String?

  init(_ frame: Frame) {
    guard frame.header.isJSON,
      let value = (try? JSONSerialization.jsonObject(with: Data(frame.content))) as? [String: Any]
    else { return }
    result = value["result"] as? String
    errorCode = value["error"] as? String
  }
}
