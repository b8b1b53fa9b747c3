import ArgumentParser
import Atomics
import Foundation
import Histogram
import SearchdClient
import SearchdSystem
import SearchdWire

struct Bench: AsyncParsableCommand, ConnectingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Load-test any server of this protocol, checking every reply.",
    discussion: """
      Like redis-benchmark and wrk: -c connections, each sending -P requests at a time (keepalive) or connecting, asking once and closing (per-connection), for -n requests or --duration seconds. Every reply is compared with the one the server gave a probe request before the run (for --kind keys, or a probe answered with an error reply: every reply must be one without an error, so a run of error replies reports them). With --json, the run's figures print as one JSON object. Exit status: 0 every reply verified, 2 cannot connect, 3 a reply was wrong, an error reply or missing. Latency runs from the write of a request (its batch, with -P) to its reply.
      """)

  @ParentCommand var searchctl: SearchCtl
  @OptionGroup var own: ConnectionOptions

  @Option(name: .short, help: "Connections.")
  var connections = 50

  @Option(name: .customShort("n"), help: "Requests in all (default 100000 unless --duration is given).")
  var requests: Int?

  @Option(help: "Seconds to run instead of a request count.")
  var duration: Double?

  @Option(name: .customShort("P"), help: "Requests in flight per connection (keepalive).")
  var pipeline = 1

  @Option(help: "keepalive or per-connection.", completion: .list(BenchPlan.Mode.allCases.map(\.rawValue)))
  var mode: String = "keepalive"

  @Option(
    help:
      "What to ask: hit (morpheus), miss, binary, keys (--keys FILE), suggest (a suggest for each line of --keys FILE), search:VALUE, or frame:FILE (a whole request frame, sent as is).",
    completion: .list(["hit", "miss", "binary", "keys", "suggest", "search:", "frame:"]))
  var kind = "hit"

  @Option(help: "Content bytes of a binary request.")
  var size = 10

  @Option(
    help: ArgumentHelp(
      "Keys to search (--kind keys) or texts to suggest for (--kind suggest), one a line.", valueName: "file"),
    completion: .file())
  var keys: String?

  @Option(help: "With --kind suggest: the typos each suggest allows (default: the server's, by length).")
  var typos: Int?

  @Option(
    help: ArgumentHelp(
      "Requests per second in all, paced (latency then counts from when each request was due, so a slow server cannot hide it).",
      valueName: "n"))
  var rate: Double?

  @Flag(help: "With --tls: offer the session an earlier connection got, so handshakes resume (per-connection).")
  var tlsResume = false

  @Flag(help: "Start every connection with a v2 PROXY header naming the client's address (a proxy-listen port).")
  var proxyHeader = false

  @Option(help: "Client threads (default: one per core).")
  var threads: Int?

  @Option(
    help: ArgumentHelp("Source addresses to spread connections over, e.g. 127.0.0.2,127.0.0.3.", valueName: "addrs"))
  var bind: String?

  func validate() throws {
    guard connections >= 1 && connections <= 100_000 else { throw ValidationError("-c must be from 1 to 100000") }
    guard pipeline >= 1 && pipeline <= 1024 else { throw ValidationError("-P must be from 1 to 1024") }
    guard BenchPlan.Mode(rawValue: mode) != nil else {
      throw ValidationError("--mode must be keepalive or per-connection")
    }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    if let requests, requests < 1 { throw ValidationError("-n must be at least 1") }
    if let duration, !(duration > 0) { throw ValidationError("--duration must be positive") }
    if let rate, !(rate > 0) { throw ValidationError("--rate must be positive") }
    if rate != nil && mode != "keepalive" { throw ValidationError("--rate paces keepalive runs only") }
    if (kind == "keys" || kind == "suggest") && keys == nil {
      throw ValidationError("--kind \(kind) needs --keys FILE")
    }
    if typos != nil && kind != "suggest" { throw ValidationError("--typos goes with --kind suggest") }
    if tlsResume && !options.tls { throw ValidationError("--tls-resume needs --tls") }
    if proxyHeader && options.tls { throw ValidationError("--proxy-header does not go with --tls") }
  }

  private func requestBodies() throws -> [[UInt8]] {
    switch kind {
    case "hit": return [Request.encodeSearch("morpheus")]
    case "miss": return [Request.encodeSearch("no such key")]
    case "binary": return [Request.encodeBinary(Array(repeating: UInt8(ascii: "x"), count: size))]
    case "keys", "suggest":
      guard let text = try? String(contentsOfFile: keys!, encoding: .utf8) else {
        exitWith(.usage, "cannot read \(keys!)")
      }
      let list = text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
      guard !list.isEmpty else { exitWith(.usage, "\(keys!) holds no keys") }
      return list.map { kind == "keys" ? Request.encodeSearch($0) : Request.encodeSuggest($0, typos: typos) }
    case _ where kind.hasPrefix("frame:"):
      let path = String(kind.dropFirst(6))
      guard let frame = FileManager.default.contents(atPath: path), !frame.isEmpty else {
        exitWith(.usage, "cannot read a request frame from \(path)")
      }
      return [Array(frame)]
    default:
      guard kind.hasPrefix("search:") else { throw ValidationError("unknown --kind \(kind)") }
      return [Request.encodeSearch(String(kind.dropFirst(7)))]
    }
  }

  func run() async throws {
    let configuration = try options.configuration(.search)
    let endpoint = configuration.endpoint
    let bodies = try requestBodies()
    let sources = try (bind?.split(separator: ",") ?? []).map { s -> SocketAddress in
      guard let a = try? Endpoint.host(String(s), port: 0).resolve().first else {
        throw ValidationError("bad --bind address \(s)")
      }
      return a
    }
    // A probe shows what the server answers; every reply of the run must match it.
    var plans: [(request: [UInt8], reply: [UInt8]?)] = []
    if kind == "keys" || kind == "suggest" {
      plans = bodies.map { ($0, nil) }
    } else {
      // The probe comes from the first --bind address, and on a PROXY listener it, too,
      // starts with a header.
      let header =
        proxyHeader
        ? ProxyHeader.encodeV2(
          source: BenchWorker.proxyAddress(sources.first ?? .ipv4(host: [127, 0, 0, 1], port: 1)),
          destination: BenchWorker.proxyAddress(try? endpoint.resolve().first))
        : []
      var probe = configuration
      probe.source = sources.first
      let client = SearchdClient(probe)
      defer { client.close() }
      let f: Frame
      do {
        f = try await client.request(header + bodies[0])
      } catch {
        exitWith(.unavailable, error.description)
      }
      let reply = Message.encode(
        contentType: f.header.contentType ?? "", contentEncoding: f.header.contentEncoding ?? "", content: f.content,
        byteorder: f.header.byteorder ?? "")
      // An error reply is never the expected answer: each one the run gets is counted.
      plans = [(bodies[0], ReplyCheck.accepts(f, nil) ? reply : nil)]
    }
    guard let target = (try? endpoint.resolve())?.first else { exitWith(.unavailable, "cannot resolve \(endpoint)") }
    let total = duration == nil ? (requests ?? 100_000) : nil
    let plan = BenchPlan(
      target: target, sources: sources, mode: BenchPlan.Mode(rawValue: mode)!, connections: connections,
      pipeline: pipeline, requests: total, durationNs: duration.map { UInt64($0 * 1e9) },
      requestsAndReplies: plans, timeoutMs: Int32(options.seconds * 1000), rate: rate,
      tls: configuration.tls.map { BenchTLS(context: $0.context, serverName: $0.serverName, resume: tlsResume) },
      proxyHeader: proxyHeader)
    let threads = self.threads ?? ProcessInfo.processInfo.activeProcessorCount
    let report = BenchRunner(plan: plan, threads: min(threads, connections)).run()
    if options.json {
      options.output.line(report.json)
    } else {
      options.output.line(report.text(plan: plan, target: endpoint.description))
    }
    if report.failed > 0 { exitWith(.errorReply) }
  }
}

/// Starts the workers on their threads and merges what they measured.
struct BenchRunner {
  let plan: BenchPlan
  let threads: Int

  func run() -> BenchReport {
    let start = MonotonicClock.nanoseconds()
    let budget = BenchBudget(
      remaining: ManagedAtomic<Int>(plan.requests ?? Int.max), limited: plan.requests != nil,
      deadline: plan.durationNs.map { start + $0 })
    let results = ResultBox()
    let done = DispatchGroup()
    var first = 0
    for t in 0..<threads {
      let share = plan.connections / threads + (t < plan.connections % threads ? 1 : 0)
      let firstIndex = first
      first += share
      done.enter()
      Thread { [plan] in
        defer { done.leave() }
        guard
          let worker = try? BenchWorker(plan: plan, connections: share, firstIndex: firstIndex, budget: budget)
        else { return }
        worker.run()
        results.add(
          worker.histogram, worker.completed, worker.failures, handshakes: worker.handshakes, resumed: worker.resumed,
          retries: worker.retries)
      }.start()
    }
    done.wait()
    let elapsed = Double(MonotonicClock.nanoseconds() - start) / 1e9
    return results.report(elapsed: elapsed)
  }
}

/// Collects the workers' figures across threads.
final class ResultBox: @unchecked Sendable {
  private let lock = NSLock()
  private var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
  private var completed = 0
  private var failures: [BenchFailure: Int] = [:]
  private var handshakes = 0
  private var resumed = 0
  private var retries = 0

  func add(_ h: Histogram<UInt64>, _ n: Int, _ f: [BenchFailure: Int], handshakes: Int, resumed: Int, retries: Int) {
    lock.withLock {
      histogram.add(h)
      completed += n
      failures.merge(f, uniquingKeysWith: +)
      self.handshakes += handshakes
      self.resumed += resumed
      self.retries += retries
    }
  }

  func report(elapsed: Double) -> BenchReport {
    lock.withLock {
      BenchReport(
        histogram: histogram, completed: completed, failures: failures, elapsed: elapsed,
        tlsHandshakes: handshakes, tlsResumed: resumed, retries: retries)
    }
  }
}
