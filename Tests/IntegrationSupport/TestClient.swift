import Foundation
import Glibc
import SearchdSystem
import SearchdWire
import TestSupport

/// A plain blocking TCP client for tests, with a deadline on every wait.
/// `send` and the reads touch disjoint state, so one thread may write while another reads.
final class TestClient: @unchecked Sendable {
  let socket: Socket
  private var input = InputBuffer()
  private var decoder = FrameDecoder(limits: WireLimits(maxHeaderBytes: 65535, maxContentLength: 1 << 26))

  init(port: UInt16, host: [UInt8] = [127, 0, 0, 1]) throws {
    socket = try Socket(family: AF_INET, nonBlocking: false)
    _ = try socket.connect(to: .ipv4(host: host, port: port))
    try socket.setNonBlocking()
  }

  func send(_ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
      _ = try Poll.wait([(socket.descriptor, .writable)], timeoutMs: 5000)
      let r = try bytes.withUnsafeBytes { try socket.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
      if case .processed(let n) = r { offset += n }
    }
  }

  /// Reads what arrives; false at end of stream or on a reset.
  private func fill(timeout: Double) throws -> Bool {
    let ready = try Poll.wait([(socket.descriptor, .readable)], timeoutMs: Int32(timeout * 1000))
    if ready[0].isEmpty { throw TestTimeout() }
    do {
      var eof = false
      _ = try input.write(upTo: 65536) { raw in
        switch try socket.read(into: raw) {
        case .processed(let n):
          eof = n == 0
          return n
        case .wouldBlock: return 0
        }
      }
      return !eof
    } catch let e as SystemError where e.errno == .connectionReset {
      return false
    }
  }

  /// Bytes of the message being decoded that the decoder has already taken from `input`.
  private var taken: [UInt8] = []

  /// The next whole reply message, exactly the bytes received; nil if the server closed first.
  /// The default timeout bounds a hang, it is not a deadline the daemon promises: under a
  /// sanitizer on two cores a daemon can wait seconds for a CPU (5 s timed out a suggest
  /// over three keys under ASan).
  func readMessage(timeout: Double = 30) throws -> [UInt8]? {
    while true {
      // A whole message at the front: its bytes, then the decoder takes exactly them.
      // (Copying everything readable for every message made 30,000 pipelined replies
      // minutes long under ThreadSanitizer.)
      if taken.isEmpty, let length = wholeMessageLength() {
        let bytes = Array(input.peek(length))
        switch decoder.decode(&input) {
        case .frame: return bytes
        case .failed(let e): throw e
        case .needMore: preconditionFailure("the decoder wants more of a whole message")
        }
      }
      let before = input.withReadableBytes { Array($0) }
      let result = decoder.decode(&input)
      taken += before.prefix(before.count - input.readableCount)
      switch result {
      case .frame:
        defer { taken = [] }
        return taken
      case .failed(let e): throw e
      case .needMore:
        if try !fill(timeout: timeout) { return nil }
      }
    }
  }

  /// The length of the well-framed message at the front of the input, if all of it is
  /// there; nil if not (or its header does not say, which the decoder then judges).
  private func wholeMessageLength() -> Int? {
    guard input.readableCount >= 2 else { return nil }
    let head = input.peek(2)
    let headerLength = Int(head[head.startIndex]) << 8 | Int(head[head.startIndex + 1])
    guard headerLength > 0, input.readableCount >= 2 + headerLength else { return nil }
    let header = input.peek(2 + headerLength).dropFirst(2)
    guard let length = (try? ReferenceJSON.parse(header))?["content-length"], case .number(let n) = length,
      let contentLength = n.integer, contentLength >= 0
    else { return nil }
    let total = 2 + headerLength + contentLength
    return input.readableCount >= total ? total : nil
  }

  /// True if the server closes the connection within `timeout` seconds (after any replies).
  func closes(within timeout: Double) throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      do {
        if try !fill(timeout: deadline.timeIntervalSinceNow) { return true }
      } catch is TestTimeout {
        return false
      }
    }
    return false
  }

  /// Every byte until the peer closes (or `timeout` passes): for protocols other than
  /// searchd's (the admin listener's HTTP).
  func readAll(timeout: Double) throws -> [UInt8] {
    let deadline = Date().addingTimeInterval(timeout)
    do {
      while try fill(timeout: max(0.001, deadline.timeIntervalSinceNow)) {}
    } catch is TestTimeout {}
    return input.consume(input.readableCount)
  }

  /// True if bytes (or the end of the stream) arrive within `timeout` seconds.
  func hasInput(within timeout: Double) throws -> Bool {
    try SearchdSystemPoll.readable(socket.descriptor, timeout: timeout)
  }

  /// How the peer ended the stream, read after whatever bytes it sent first: a FIN
  /// (read returns 0) or a reset (ECONNRESET); nil if it did neither within `timeout`.
  enum Ending { case fin, reset }
  func ending(within timeout: Double) throws -> Ending? {
    let deadline = Date().addingTimeInterval(timeout)
    var scratch = [UInt8](repeating: 0, count: 65536)
    while Date() < deadline {
      guard try SearchdSystemPoll.readable(socket.descriptor, timeout: max(0.001, deadline.timeIntervalSinceNow)) else {
        return nil
      }
      do {
        let r = try scratch.withUnsafeMutableBytes { try socket.read(into: $0) }
        if case .processed(0) = r { return .fin }
      } catch let e as SystemError where e.errno == .connectionReset {
        return .reset
      }
    }
    return nil
  }

  func close() { socket.close() }
}

struct TestTimeout: Error {}

/// The JSON fields of a reply message.
func replyFields(_ message: [UInt8]) -> (result: String?, error: String?) {
  var b = InputBuffer()
  b.append(message)
  var d = FrameDecoder(limits: WireLimits(maxHeaderBytes: 65535, maxContentLength: 1 << 26))
  guard case .frame(let f) = d.decode(&b), let v = try? ReferenceJSON.parse(f.content) else { return (nil, nil) }
  return (v["result"]?.stringValue, v["error"]?.stringValue)
}

/// Runs a program and collects its output and status.
func runProcess(
  _ url: URL, _ args: [String], environment: [String: String] = [:], stdin: Data? = nil, timeout: Double = 60
)
  throws -> (status: Int32, stdout: String, stderr: String)
{
  let p = ChildProcess()
  p.executableURL = url
  p.arguments = args
  p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  let out = Pipe()
  let err = Pipe()
  p.standardOutput = out
  p.standardError = err
  let input = Pipe()
  p.standardInput = input
  let outText = LineCollector()
  let errText = LineCollector()
  outText.follow(out.fileHandleForReading)
  errText.follow(err.fileHandleForReading)
  try p.run()
  if let stdin { input.fileHandleForWriting.write(stdin) }
  try input.fileHandleForWriting.close()
  let deadline = Date().addingTimeInterval(timeout)
  while p.isRunning && Date() < deadline { usleep(10_000) }
  if p.isRunning {
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    throw TestTimeout()
  }
  outText.waitUntilClosed(timeout: 5)
  errText.waitUntilClosed(timeout: 5)
  return (p.terminationStatus, outText.text, errText.text)
}

func searchctl(_ args: [String], environment: [String: String] = [:], stdin: Data? = nil) throws -> (
  status: Int32, stdout: String, stderr: String
) {
  try runProcess(Binaries.searchctl, args, environment: environment, stdin: stdin)
}

enum SearchdSystemPoll {
  static func readable(_ fd: Int32, timeout: Double) throws -> Bool {
    !(try Poll.wait([(fd, .readable)], timeoutMs: Int32(timeout * 1000))[0].isEmpty)
  }
}
