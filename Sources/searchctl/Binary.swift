import ArgumentParser
import Foundation
import SearchdWire

struct Binary: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Send a binary request and print the reply's content.")

  @OptionGroup var options: ConnectionOptions

  @Argument(help: "The bytes to send, as text (omit with --file).")
  var data: String?

  @Option(help: ArgumentHelp("Send the content of PATH instead; - reads stdin.", valueName: "path"))
  var file: String?

  @Option(help: "The request's content-type.")
  var contentType = "binary/custom-client-binary-type"

  func validate() throws {
    if (data == nil) == (file == nil) { throw ValidationError("give either DATA or --file PATH") }
  }

  func run() throws {
    let content: [UInt8]
    if let file {
      let d = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
      guard let d else { exitWith(.usage, "cannot read \(file)") }
      content = Array(d)
    } else {
      content = Array(data!.utf8)
    }
    let target = try options.target(defaultPort: 65432)
    let frame = Exchange.requestReply(
      Request.encodeBinary(content, contentType: contentType), target: target, timeout: options.timeout,
      output: options.output, retryIfUnanswered: true)
    let isError = frame.header.isJSON && SearchReply(frame).errorCode != nil
    if options.json {
      options.output.printJSON(frame, status: isError ? .errorReply : .found)
    } else {
      FileHandle.standardOutput.write(Data(frame.content) + Data("\n".utf8))
    }
    if isError { exitWith(.errorReply) }
  }
}
