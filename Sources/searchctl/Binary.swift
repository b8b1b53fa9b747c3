import ArgumentParser
import Foundation
import SearchdClient
import SearchdWire

struct Binary: AsyncParsableCommand, ConnectingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Send a binary request and print the reply's content.",
    discussion: "Exit status: 0 answered, 2 cannot connect or timed out, 3 error reply.")

  @ParentCommand var searchctl: SearchCtl
  @OptionGroup var own: ConnectionOptions

  @Argument(help: "The bytes to send, as text (omit with --file).")
  var data: String?

  @Option(help: ArgumentHelp("Send the content of PATH instead; - reads stdin.", valueName: "path"))
  var file: String?

  @Option(help: "The request's content-type.")
  var contentType = "binary/custom-client-binary-type"

  func validate() throws {
    if (data == nil) == (file == nil) { throw ValidationError("give either DATA or --file PATH") }
  }

  func run() async throws {
    let content: [UInt8]
    if let file {
      let d = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
      guard let d else { exitWith(.usage, "cannot read \(file)") }
      content = Array(d)
    } else {
      content = Array(data!.utf8)
    }
    let frame = try await exchange(Request.encodeBinary(content, contentType: contentType))
    let isError = (try? Replies.binary(frame)) == nil
    if options.json {
      options.output.printJSON(frame, status: isError ? .errorReply : .found)
    } else {
      FileHandle.standardOutput.write(Data(frame.content) + Data("\n".utf8))
    }
    if isError { exitWith(.errorReply) }
  }
}
