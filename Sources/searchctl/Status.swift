import ArgumentParser
import Foundation
import SearchdClient
import SearchdWire

struct Status: AsyncParsableCommand, ConnectingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the daemon's figures: version, uptime, connections, requests, errors, index, loops.",
    discussion: """
      Served only to local clients (loopback or a unix socket), and over TLS to tls-admin-clients. Exit status: 0 answered, 2 cannot connect or timed out, 3 error reply (not-permitted, or a server without stats).
      """,
    aliases: ["stats"])

  @ParentCommand var searchctl: SearchCtl
  @OptionGroup var own: ConnectionOptions

  func run() async throws {
    let frame = try await exchange(Request.encodeSearch("", action: "stats"))
    let stats: [String: Any]
    do {
      stats = try Replies.stats(frame)
    } catch {
      exitWith(ExitStatus(error), error.description)
    }
    if options.json {
      options.output.printJSON(frame, status: .found)
      return
    }
    options.output.line(Self.render(stats))
  }

  /// Aligned lines, like `systemctl status`: every figure of the reply, so a counter the
  /// daemon adds shows here with no change to searchctl (groups list their non-zero members).
  static func render(_ s: [String: Any]) -> String {
    func int(_ d: Any?, _ k: String) -> Int { ((d as? [String: Any])?[k] as? NSNumber)?.intValue ?? 0 }
    func line(_ label: String, _ text: String) -> String {
      (label + ":").padding(toLength: 16, withPad: " ", startingAt: 0) + text
    }
    let conns = s["connections"]
    let index = s["index"] as? [String: Any]
    var lines = [
      line("version", s["version"] as? String ?? "?"),
      line("uptime", "\(Int((s["uptime_seconds"] as? NSNumber)?.doubleValue ?? 0)) s"),
      line(
        "connections",
        "\(int(conns, "current")) now, \(int(conns, "total")) total, \(int(conns, "rejected")) rejected, "
          + "\(int(conns, "idle_kicks")) idle kicks, \(int(conns, "timeouts")) timeouts, "
          + "\(int(conns, "send_timeouts")) send timeouts"),
      line(
        "index",
        "\(int(index, "entries")) entries from \(index?["source"] as? String ?? "?") (\(index?["format"] as? String ?? "?"), "
          + "\(int(index, "bytes")) bytes), loaded in "
          + String(format: "%.3f s", (index?["load_seconds"] as? NSNumber)?.doubleValue ?? 0)
          + ((index?["file_modified"] as? Bool) == true ? " (FILE WRITTEN IN PLACE: replace it and reload)" : "")
          + (int(index, "pages_zeroed") > 0 ? ", \(int(index, "pages_zeroed")) pages lost to a truncation" : "")),
    ]
    let done: Set = ["version", "uptime_seconds", "connections", "index", "loops", "listeners"]
    // "errors" are the error replies by code; TLS and PROXY failures have lines of their own.
    func label(_ key: String) -> String {
      key == "errors" ? "error replies" : key.replacingOccurrences(of: "_", with: " ")
    }
    for key in s.keys.sorted() where !done.contains(key) {
      let value = s[key]
      if let group = value as? [String: Any] {
        // A group of groups (tls: handshakes, resumed, failures by reason) reads flattened.
        var flat: [String: Any] = [:]
        for (k, v) in group {
          if let inner = v as? [String: Any] { for (ik, iv) in inner { flat["\(k) \(ik)"] = iv } } else { flat[k] = v }
        }
        lines.append(line(label(key), pairs(flat)))
      } else if let flag = value as? Bool, key == "ready" {
        lines.append(line(label(key), flag ? "yes" : "no"))
      } else if let n = value as? NSNumber {
        lines.append(line(label(key), "\(n)"))
      } else {
        lines.append(line(label(key), "\(value ?? "")"))
      }
    }
    for loop in (s["loops"] as? [[String: Any]]) ?? [] {
      lines.append(
        line("loop \(int(loop, "loop"))", "\(int(loop, "connections")) connections, \(int(loop, "accepted")) accepted"))
    }
    if let l = s["listeners"] as? [String] { lines.append(line("listeners", l.joined(separator: " "))) }
    return lines.joined(separator: "\n")
  }

  private static func pairs(_ d: Any?) -> String {
    let dict = (d as? [String: Any]) ?? [:]
    let nonZero = dict.compactMap { k, v in ((v as? NSNumber)?.intValue ?? 0) > 0 ? "\(k) \(v)" : nil }.sorted()
    return nonZero.isEmpty ? "none" : nonZero.joined(separator: ", ")
  }
}
