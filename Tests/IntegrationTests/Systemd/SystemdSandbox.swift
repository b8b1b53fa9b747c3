import Foundation
import Glibc
import Testing

@testable import IntegrationSupport

/// A throwaway systemd (see sandbox.sh) booted with searchd's install tree laid over
/// the host root. The install tree is what `make test` staged with
/// `make install DESTDIR=… CONFIG=debug` before the tests started.
final class SystemdSandbox {
  struct Unavailable: Error, CustomStringConvertible {
    let description: String
  }

  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("sandbox.sh")

  /// Why the sandbox cannot run here, or nil if it can.
  static let unavailableReason: String? = {
    if getuid() != 0 { return "needs root (namespaces, mounts, systemd as PID 1)" }
    guard let tree = ProcessInfo.processInfo.environment["SEARCHD_SYSTEMD_TREE"] else {
      return "SEARCHD_SYSTEMD_TREE is not set: run these through `make test`, which stages the install tree"
    }
    if !FileManager.default.fileExists(atPath: tree + "/usr/local/lib/systemd/system/searchd.service") {
      return "no installed units in \(tree)"
    }
    guard let r = try? runProcess(URL(fileURLWithPath: "/usr/bin/unshare"), ["--pid", "--fork", "--mount", "true"]),
      r.status == 0
    else { return "cannot create PID and mount namespaces here" }
    return nil
  }()

  /// Under CI a sandbox that cannot run is a failure, never a silent skip.
  static var shouldRun: Bool {
    if let reason = unavailableReason {
      print("⚠️  systemd end-to-end tests cannot run: \(reason)")
      return ProcessInfo.processInfo.environment["CI"] == "true"
    }
    return true
  }

  let pid: String
  private let dir: String

  /// Boots with `tree` laid over the root (the staged `make install` tree unless told
  /// otherwise) and each of `hiding` (absolute folders) made empty.
  init(tree: String? = nil, hiding: [String] = []) throws {
    if let reason = Self.unavailableReason { throw Unavailable(description: "systemd sandbox unavailable: \(reason)") }
    let tree = tree ?? ProcessInfo.processInfo.environment["SEARCHD_SYSTEMD_TREE"]!
    dir = NSTemporaryDirectory() + "searchd-sandbox-\(UUID().uuidString.prefix(8))"
    let r = try runProcess(Self.script, ["start", dir, tree] + hiding, timeout: 90)
    guard r.status == 0, !r.stdout.isEmpty else {
      let boot = (try? String(contentsOfFile: dir + "/boot.log", encoding: .utf8)) ?? ""
      throw Unavailable(description: "the sandbox did not boot: \(r.stderr)\n\(boot.suffix(2000))")
    }
    pid = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Runs a command inside the sandbox.
  @discardableResult
  func run(_ args: String..., timeout: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
    try runProcess(Self.script, ["exec", pid] + args, timeout: timeout)
  }

  /// `systemctl show -p NAME --value UNIT`.
  func property(_ name: String, of unit: String = "searchd.service") throws -> String {
    try run("systemctl", "show", "-p", name, "--value", unit).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// The journal entries of a unit (searchd's unless told), as JSON objects.
  func journal(unit: String = "searchd", _ filters: String...) throws -> [[String: Any]] {
    let args = ["journalctl", "-u", unit, "-o", "json", "--no-pager"] + filters
    let r = try runProcess(Self.script, ["exec", pid] + args)
    return r.stdout.split(separator: "\n").compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
  }

  /// Waits until `condition` holds, up to `timeout` seconds.
  func wait(_ timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if try condition() { return true }
      usleep(100_000)
    }
    return try condition()
  }

  deinit {
    _ = try? runProcess(Self.script, ["stop", pid])
    // The sandbox's tmpfs goes with its mount namespace; only the boot log is left.
    try? FileManager.default.removeItem(atPath: dir)
  }
}
