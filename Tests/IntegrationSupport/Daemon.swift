import Foundation
import Glibc

/// A real searchd process on ephemeral loopback ports, stopped when the test ends.
final class Daemon: @unchecked Sendable {
  struct StartError: Error, CustomStringConvertible {
    let description: String
  }

  let process = ChildProcess()
  private(set) var appPort: UInt16 = 0
  private(set) var echoPort: UInt16 = 0
  private(set) var tlsPort: UInt16 = 0
  private let log = LineCollector()

  var pid: Int32 { process.processIdentifier }
  var logText: String { log.text }

  /// The backend every daemon runs on unless its test names one: `SEARCHD_TEST_IO_BACKEND`
  /// (the Makefile runs one suite on each), else searchd's default.
  static let backend: [String] =
    ProcessInfo.processInfo.environment["SEARCHD_TEST_IO_BACKEND"].map {
      ["--io-backend", $0]
    } ?? []

  /// Starts searchd and waits for its ready line, which names the ports it bound.
  /// `nofile`: run under `prlimit --nofile=N`. `wrapper`: a command that execs searchd
  /// (given its path and arguments after its own), so the pid is searchd's.
  init(
    _ extra: [String] = [], echo: Bool = false, environment: [String: String] = [:], nofile: Int? = nil,
    wrapper: [String] = []
  ) throws {
    var args = ["--listen", "127.0.0.1:0", "--threads", "2", "--log-level", "debug", "--log-target", "stderr"]
    if echo { args += ["--echo-listen", "127.0.0.1:0"] }
    if !extra.contains("--io-backend") { args += Self.backend }
    let command = (nofile.map { ["/usr/bin/prlimit", "--nofile=\($0)", "--"] } ?? wrapper)
    if let first = command.first {
      process.executableURL = URL(fileURLWithPath: first)
      process.arguments = command.dropFirst() + [Binaries.searchd.path] + args + extra
    } else {
      process.executableURL = Binaries.searchd
      process.arguments = args + extra
    }
    var env = ProcessInfo.processInfo.environment
    for k in ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "JOURNAL_STREAM"] { env[k] = nil }
    process.environment = env.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardError = pipe
    process.standardOutput = FileHandle.nullDevice
    log.follow(pipe.fileHandleForReading)
    try process.run()
    guard let line = log.waitFor("searchd ready", timeout: 30) else {
      stop()
      throw StartError(description: "searchd did not become ready:\n\(log.text)")
    }
    appPort = Self.port(in: line, service: "app") ?? 0
    echoPort = Self.port(in: line, service: "echo") ?? 0
    tlsPort = Self.port(in: line, service: "app-tls") ?? 0
  }

  private static func port(in line: String, service: String) -> UInt16? {
    guard let r = line.range(of: " \(service)=127.0.0.1:") ?? line.range(of: "=\(service)=127.0.0.1:") else {
      return nil
    }
    return UInt16(line[r.upperBound...].prefix { $0.isNumber })
  }

  func signal(_ sig: Int32) { kill(pid, sig) }

  /// Waits for exit; nil if it did not exit in time.
  func waitForExit(timeout: Double) -> Int32? {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    return process.isRunning ? nil : process.terminationStatus
  }

  /// SIGTERM, then SIGKILL if it lingers.
  @discardableResult
  func stop() -> Int32? {
    guard process.isRunning else { return process.terminationStatus }
    signal(SIGTERM)
    if let status = waitForExit(timeout: 10) { return status }
    signal(SIGKILL)
    _ = waitForExit(timeout: 5)
    return nil
  }

  func waitForLog(_ text: String, timeout: Double = 5) -> String? { log.waitFor(text, timeout: timeout) }

  /// The lines of /proc/PID/maps that map `path` (read to the end: String(contentsOfFile:)
  /// returned only the first line of this file).
  func mappings(of path: String) -> [String] {
    guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/maps") else { return [] }
    defer { try? handle.close() }
    let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    return text.split(separator: "\n").filter { $0.contains(path) }.map(String.init)
  }

  /// CPU time the daemon has used, in seconds (utime + stime from /proc).
  var cpuSeconds: Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return -1 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
    let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
    return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
  }

  /// Resident memory in KiB, from /proc.
  var rssKiB: Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return -1 }
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
  }

  /// Open descriptors of the daemon, from /proc.
  var openFDCount: Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }

  deinit {
    if process.isRunning {
      kill(pid, SIGKILL)
      process.waitUntilExit()
    }
  }
}

/// Collects a process's output lines as they come, for tests to wait on.
final class LineCollector: @unchecked Sendable {
  private let condition = NSCondition()
  private var buffer = ""
  private var closed = false

  func follow(_ handle: FileHandle) {
    let t = Thread { [self] in
      while true {
        let data = handle.availableData
        condition.lock()
        if data.isEmpty { closed = true }
        buffer += String(decoding: data, as: UTF8.self)
        condition.broadcast()
        condition.unlock()
        if data.isEmpty { break }
      }
    }
    t.start()
  }

  /// Waits until the writer closed its end (the process exited), so `text` is complete.
  func waitUntilClosed(timeout: Double) {
    let deadline = Date().addingTimeInterval(timeout)
    condition.lock()
    defer { condition.unlock() }
    while !closed && condition.wait(until: deadline) {}
  }

  var text: String {
    condition.lock()
    defer { condition.unlock() }
    return buffer
  }

  /// The first line containing `needle`, waiting up to `timeout` seconds for it.
  func waitFor(_ needle: String, timeout: Double) -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    condition.lock()
    defer { condition.unlock() }
    while true {
      // Only whole lines: a pipe read can end in the middle of one.
      let complete = buffer[..<(buffer.lastIndex(of: "\n") ?? buffer.startIndex)]
      if let line = complete.split(separator: "\n").first(where: { $0.contains(needle) }) { return String(line) }
      if closed || !condition.wait(until: deadline) { return nil }
    }
  }
}

extension LineCollector {
  /// Starts `process` with its standard output and error both collected here: for the
  /// real programs a test runs beside searchd (HAProxy, Prometheus), whose log explains a
  /// failure.
  func start(_ process: ChildProcess) throws {
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    follow(out.fileHandleForReading)
    try process.run()
  }
}
