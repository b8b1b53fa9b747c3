import Foundation
import Glibc
import SearchdWire
import TestSupport
import Testing

@testable import IntegrationSupport

/// searchd as a Debian user runs it: installed with `make install`, started by a real
/// systemd (PID 1 of a throwaway sandbox), logging to a real journald. The sockets are
/// the shipped ones, on 127.0.0.1:65432 and :65433, so these tests run one at a time.
@Suite(.serialized, .enabled(if: SystemdSandbox.shouldRun), .daemonSuite)
struct SystemdTests {
  private let morpheus = "Follow the white rabbit. \u{1F430}"

  /// Enabled and started, on `backend` (the default's config file left as shipped).
  private func started(on backend: String = "epoll") throws -> SystemdSandbox {
    let sandbox = try SystemdSandbox()
    if backend != "epoll" { try sandbox.run("sh", "-c", "echo 'io-backend = \(backend)' >> /etc/searchd/searchd.conf") }
    let r = try sandbox.run("systemctl", "enable", "--now", "searchd")
    #expect(r.status == 0, "\(r.stderr)")
    return sandbox
  }

  @Test func enableStartsItAndSearchctlAnswers() throws {
    let sandbox = try started()
    #expect(try sandbox.property("ActiveState") == "active")
    for unit in ["searchd.socket", "searchd-echo.socket"] {
      #expect(try sandbox.run("systemctl", "is-enabled", unit).stdout.hasPrefix("enabled"), "Also= enables \(unit)")
    }
    let r = try searchctl(["search", "morpheus"])
    #expect(r.status == 0)
    #expect(r.stdout == morpheus + "\n")
    let status = try sandbox.property("StatusText")
    #expect(status.contains("index entries"), "STATUS= is sent: \(status)")
    #expect(try sandbox.run("systemctl", "is-active", "searchd").stdout.hasPrefix("active"))
  }

  @Test func eitherSocketStartsTheOneService() throws {
    let sandbox = try started()
    try sandbox.run("systemctl", "stop", "searchd.service")
    #expect(try sandbox.property("ActiveState") == "inactive")
    // A connection to the echo socket starts the service…
    let echo = try searchctl(["echo", "hello"])
    #expect(echo.stdout == "hello\n")
    let pid = try sandbox.property("MainPID")
    #expect(pid != "0")
    // …and the same process serves the app socket, by name, in whatever order systemd passed them.
    let r = try searchctl(["search", "morpheus"])
    #expect(r.stdout == morpheus + "\n")
    #expect(try sandbox.property("MainPID") == pid)
    try sandbox.run("systemctl", "stop", "searchd.service")
    #expect(try searchctl(["search", "morpheus"]).status == 0, "the app socket alone starts it too")
    let ipv6 = try searchctl(["search", "-H", "::1", "ring"])
    #expect(ipv6.status == 0, "[::1]:65432 is served as well: \(ipv6.stderr)")
  }

  @Test func journalHoldsStructuredEntries() throws {
    let sandbox = try started()
    let c = try TestClient(port: 65432)
    try c.send(Message.encode(contentType: "text/json", contentEncoding: "utf-8", content: Array("nope".utf8)))
    #expect(replyFields(try c.readMessage()!).error == "bad-json")
    c.close()
    let entries = try sandbox.journal("SEARCHD_ERROR=bad-json")
    #expect(!entries.isEmpty)
    for e in entries {
      #expect(e["SEARCHD_ERROR"] as? String == "bad-json")
      #expect(e["SYSLOG_IDENTIFIER"] as? String == "searchd")
      #expect(e["PRIORITY"] as? String == "5")
      #expect((e["SEARCHD_PEER"] as? String)?.hasPrefix("127.0.0.1:") == true)
      #expect(e["SEARCHD_CONNECTION"] != nil)
      #expect((e["CODE_FILE"] as? String)?.hasSuffix(".swift") == true)
      #expect(e["CODE_LINE"] != nil && e["CODE_FUNC"] != nil)
    }
    let all = try sandbox.journal()
    let ids = Set(all.compactMap { $0["MESSAGE_ID"] as? String })
    #expect(ids.contains(MessageIDs.start))
    #expect(ids.contains(MessageIDs.ready))
    #expect(
      !all.contains { ($0["SEARCHD_ERROR"] as? String) == "bad-json" && ($0["MESSAGE"] as? String)?.isEmpty ?? true })

    try sandbox.run("systemctl", "stop", "searchd.service")
    #expect(try sandbox.property("Result") == "success", "SIGTERM ends it with exit status 0")
    #expect(try sandbox.journal("MESSAGE_ID=\(MessageIDs.stop)").count == 1)
  }

  /// The shipped hardening lets io_uring run (SystemCallFilter=@system-service holds @aio);
  /// where a drop-in refuses io_uring_setup (EPERM, the unit's SystemCallErrorNumber=), an
  /// explicit io_uring fails with 78 and is not restarted, and auto serves on epoll saying why once.
  @Test func theShippedUnitRunsOnIOUringAndFallsBackWhereItIsRefused() throws {
    let sandbox = try SystemdSandbox()
    try sandbox.run("sh", "-c", "echo 'io-backend = io_uring' >> /etc/searchd/searchd.conf")
    #expect(try sandbox.run("systemctl", "enable", "--now", "searchd").status == 0)
    #expect(try searchctl(["search", "morpheus"]).stdout == morpheus + "\n")
    let ready = try sandbox.journal("MESSAGE_ID=\(MessageIDs.ready)")
    #expect(ready.last?["SEARCHD_IO_BACKEND"] as? String == "io_uring", "\(ready)")

    try sandbox.run(
      "sh", "-c",
      "mkdir -p /etc/systemd/system/searchd.service.d && printf '[Service]\\nSystemCallFilter=~io_uring_setup\\n' "
        + "> /etc/systemd/system/searchd.service.d/no-io-uring.conf && systemctl daemon-reload")
    try sandbox.run("systemctl", "restart", "searchd")
    #expect(try sandbox.wait(10) { try sandbox.property("ActiveState") == "failed" })
    #expect(try sandbox.property("ExecMainStatus") == "78")
    #expect(try sandbox.property("NRestarts") == "0", "a configuration this host refuses is not retried")

    try sandbox.run("sed", "-i", "s/^io-backend = io_uring$/io-backend = auto/", "/etc/searchd/searchd.conf")
    try sandbox.run("systemctl", "reset-failed", "searchd")
    #expect(try sandbox.run("systemctl", "restart", "searchd").status == 0)
    #expect(try searchctl(["search", "morpheus"]).stdout == morpheus + "\n")
    let fallback = try sandbox.journal("MESSAGE_ID=\(MessageIDs.ioUringUnavailable)")
    #expect(fallback.count == 1, "\(fallback)")
    #expect((fallback.first?["MESSAGE"] as? String)?.contains("io_uring_setup is not permitted") == true)
    #expect(try sandbox.journal("MESSAGE_ID=\(MessageIDs.ready)").last?["SEARCHD_IO_BACKEND"] as? String == "epoll")
  }

  @Test(arguments: ["epoll", "io_uring"])
  func reloadUnderLoadSwapsTheIndexWithoutAFailedRequest(_ backend: String) throws {
    let sandbox = try started(on: backend)
    try sandbox.run(
      "sh", "-c",
      #"printf '{"morpheus": "reloaded"}' > /etc/searchd/index.json && echo 'index = /etc/searchd/index.json' >> /etc/searchd/searchd.conf"#
    )
    let load = LoadClient(query: "morpheus", accepted: [morpheus, "reloaded"])
    usleep(500_000)
    let r = try sandbox.run("systemctl", "reload", "searchd")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try sandbox.wait(10) { try searchctl(["search", "morpheus"]).stdout == "reloaded\n" })
    usleep(500_000)
    let failures = load.stop()
    #expect(failures.isEmpty, "\(failures.prefix(5))")
    #expect(load.ok > 100)
    #expect(try sandbox.journal("MESSAGE_ID=\(MessageIDs.reload)").count == 1)

    // A broken index is refused and the old one goes on serving.
    try sandbox.run("sh", "-c", "echo '[broken' > /etc/searchd/index.json")
    try sandbox.run("systemctl", "reload", "searchd")
    #expect(try sandbox.wait(10) { try !sandbox.journal("MESSAGE_ID=\(MessageIDs.reloadFailed)").isEmpty })
    let failed = try sandbox.journal("MESSAGE_ID=\(MessageIDs.reloadFailed)").first
    #expect((failed?["MESSAGE"] as? String)?.contains("/etc/searchd/index.json") == true)
    #expect(try searchctl(["search", "morpheus"]).stdout == "reloaded\n")
    #expect(try sandbox.property("ActiveState") == "active")

    // A compiled index, built with the installed searchd-index, read by the DynamicUser.
    let built = try sandbox.run(
      "sh", "-c",
      #"printf '{"morpheus": "compiled"}' > /tmp/i.json && searchd-index build /tmp/i.json /etc/searchd/index.sdx && sed -i 's|^index = .*|index = /etc/searchd/index.sdx|' /etc/searchd/searchd.conf"#
    )
    #expect(built.status == 0, "\(built.stderr)")
    try sandbox.run("systemctl", "reload", "searchd")
    #expect(try sandbox.wait(10) { try searchctl(["search", "morpheus"]).stdout == "compiled\n" })
    #expect(try sandbox.journal("MESSAGE_ID=\(MessageIDs.reload)").count == 2)
  }

  @Test(arguments: ["epoll", "io_uring"]) func restartUnderLoadLosesNoRequest(_ backend: String) throws {
    let sandbox = try started(on: backend)
    let load = LoadClient(query: "morpheus", accepted: [morpheus])
    usleep(500_000)
    let before = try sandbox.property("MainPID")
    let r = try sandbox.run("systemctl", "restart", "searchd")
    #expect(r.status == 0, "\(r.stderr)")
    usleep(1_000_000)
    let failures = load.stop()
    #expect(try sandbox.property("MainPID") != before)
    #expect(failures.isEmpty, "\(failures.prefix(5))")
    #expect(load.ok > 100)
  }

  @Test func aFrozenDaemonIsRestartedByTheWatchdog() throws {
    let sandbox = try started()
    let frozen = try sandbox.property("MainPID")
    try sandbox.run("kill", "-STOP", frozen)
    let restarted = try sandbox.wait(60) {
      let now = try sandbox.property("MainPID")
      let state = try sandbox.property("ActiveState")
      return now != frozen && now != "0" && state == "active"
    }
    #expect(restarted)
    #expect(try searchctl(["search", "morpheus"]).stdout == morpheus + "\n")
    let log = try sandbox.run("journalctl", "-u", "searchd", "--no-pager").stdout
    #expect(log.contains("Watchdog timeout"))
  }

  @Test func manPagesAndCompletionsAreInstalled() throws {
    let tree = ProcessInfo.processInfo.environment["SEARCHD_SYSTEMD_TREE"]! + "/usr/local/share"
    let man8 = try String(contentsOfFile: tree + "/man/man8/searchd.8", encoding: .utf8)
    #expect(man8.contains(".Dt SEARCHD 8") && man8.contains("listen"))
    // searchd has no subcommands: no `help` one either.
    #expect(!man8.contains(".It Em help"), "searchd.8 lists a help subcommand searchd rejects")
    let man1 = try String(contentsOfFile: tree + "/man/man1/searchctl.1", encoding: .utf8)
    #expect(man1.contains(".Dt SEARCHCTL 1") && man1.contains("search"))
    let index1 = try String(contentsOfFile: tree + "/man/man1/searchd-index.1", encoding: .utf8)
    for (page, text) in [("searchd.8", man8), ("searchctl.1", man1), ("searchd-index.1", index1)] {
      for section in ["EXIT STATUS", "FILES", "EXAMPLES", "SEE ALSO"] {
        #expect(text.contains(".Sh \(section)\n"), "\(page) has \(section)")
      }
      #expect(!text.contains(".Ex -std"), "\(page)'s exit status is its own, not the generic one")
      // groff in warning mode: a page that renders without a complaint.
      let groff = try runProcess(
        URL(fileURLWithPath: "/usr/bin/groff"), ["-mandoc", "-Tutf8", "-ww", "-z"], stdin: Data(text.utf8))
      #expect(groff.status == 0 && groff.stderr.isEmpty, "\(page): \(groff.stderr)")
    }
    #expect(man1.contains("search: no match") && man1.contains("ping: not alive"), "per-command exit statuses")
    // Completions offer every value of an enumerated option.
    let bash = try String(contentsOfFile: tree + "/bash-completion/completions/searchctl", encoding: .utf8)
    #expect(bash.contains("'hit'") && bash.contains("'per-connection'"), "bench --kind and --mode complete")
    let searchdBash = try String(contentsOfFile: tree + "/bash-completion/completions/searchd", encoding: .utf8)
    #expect(
      searchdBash.contains("'critical'") && searchdBash.contains("'optional'"), "--log-level, --tls-verify-clients")
    for path in [
      "/bash-completion/completions/searchctl", "/zsh/site-functions/_searchctl",
      "/fish/vendor_completions.d/searchctl.fish",
      "/bash-completion/completions/searchd",
    ] {
      let text = try String(contentsOfFile: tree + path, encoding: .utf8)
      #expect(text.contains("searchctl") || text.contains("searchd"), "\(path)")
    }
  }

  @Test func securityExposureIsAtMostOne() throws {
    let unit =
      ProcessInfo.processInfo.environment["SEARCHD_SYSTEMD_TREE"]! + "/usr/local/lib/systemd/system/searchd.service"
    let r = try runProcess(URL(fileURLWithPath: "/usr/bin/systemd-analyze"), ["security", "--offline=true", unit])
    let line = try #require(r.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") })
    let score = try #require(Double(line.split(separator: ":").last!.split(separator: " ").first!))
    #expect(score <= 1.0, "\(line)")
  }
}

/// The MESSAGE_IDs searchd logs (SearchdServer's MessageID), spelled out here so a
/// change there that would break `journalctl MESSAGE_ID=…` users fails a test.
enum MessageIDs {
  static let start = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e01"
  static let ready = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e02"
  static let reload = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e03"
  static let reloadFailed = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e04"
  static let stop = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e05"
  static let ioUringUnavailable = "8c6f4b9d2a1e4f0b9e3d7c5a1b2f6e0a"
}
