import ArgumentParser
import Foundation
import SearchdWire

struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the daemon's figures: uptime, connections, requests, errors, index, loops.",
    discussion: "Served only to local clients (loopback or a unix socket).",
    aliases: ["stats"])

  @OptionGroup var options: ConnectionOptions

  func run() throws {
    let target = try options.target(defaultPort: 65432)
    let frame = Exchange.requestReply(
      Request.encodeSearch("", action: "stats"), target: target, timeout: options.timeout, output: options.output,
      retryIfUnanswered: true)
    let object = (try? JSONSerialization.jsonObject(with: Data(frame.content))) as? [String: Any]
    guard let stats = object?["stats"] as? [String: Any] else {
      let reply = SearchReply(frame)
      exitWith(.errorReply, reply.result ?? "the server does not serve stats")
    }
    if options.json {
      options.output.printJSON(frame, status: .found)
      return
    }
    options.output.line(Self.render(stats))
  }

  /// A few aligned lines, like `systemctl status`.
  static func render(_ s: [String: Any]) -> String {
    func int(_ d: Any?, _ k: String) -> Int { ((d as? [String: Any])?[k] as? NSNumber)?.intValue ?? 0 }
    let conns = s["connections"]
    let index = s["index"] as? [String: Any]
    let tls = s["tls"] as? [String: Any]
    var lines = [
      "version:      \(s["version"] as? String ?? "?")",
      "uptime:       \(Int((s["uptime_seconds"] as? NSNumber)?.doubleValue ?? 0)) s",
      "connections:  \(int(conns, "current")) now, \(int(conns, "total")) total, \(int(conns, "rejected")) rejected, "
        + "\(int(conns, "idle_kicks")) idle kicks, \(int(conns, "timeouts")) timeouts",
      "requests:     " + pairs(s["requests"]),
      "errors:       " + pairs(s["errors"]),
      "index:        \(int(index, "entries")) entries from \(index?["source"] as? String ?? "?"), loaded in "
        + String(format: "%.3f s", (index?["load_seconds"] as? NSNumber)?.doubleValue ?? 0)
        + ((index?["file_modified"] as? Bool) == true ? " (FILE WRITTEN IN PLACE: replace it and reload)" : ""),
      "reloads:      " + pairs(s["reloads"]),
      "tls:          \(int(tls, "handshakes")) handshakes, \(int(tls, "resumed")) resumed, failures: "
        + pairs(tls?["failures"]),
      "proxy:        failures: " + pairs(s["proxy_failures"]),
      "flow:         \(int(s, "output_paused")) output pauses, \(int(s, "request_yields")) yields, "
        + "\(int(s, "emfile_events")) emfile, \(int(s, "echo_bytes")) echo bytes",
    ]
    for loop in (s["loops"] as? [[String: Any]]) ?? [] {
      lines.append(
        "loop \(int(loop, "loop")):       \(int(loop, "connections")) connections, \(int(loop, "accepted")) accepted")
    }
    if let l = s["listeners"] as? [String] { lines.append("listeners:    " + l.joined(separator: " ")) }
    return lines.joined(separator: "\n")
  }

  private static func pairs(_ d: Any?) -> String {
    let dict = (d as? [String: Any]) ?? [:]
    let nonZero = dict.compactMap { k, v in ((v as? NSNumber)?.intValue ?? 0) > 0 ? "\(k) \(v)" : nil }.sorted()
    return nonZero.isEmpty ? "none" : nonZero.joined(separator: ", ")
  }
}
