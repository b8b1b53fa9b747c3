import Foundation
import SearchdSystem
import Testing

@testable import IntegrationSupport

/// searchctl as a user runs it: output and exit status.
@Suite(.daemonSuite) struct SearchctlTests {
  @Test func hitMissBinaryAndExitStatuses() throws {
    let daemon = try Daemon()
    let port = "\(daemon.appPort)"
    let hit = try searchctl(["search", "-p", port, "morpheus"])
    #expect(hit.status == 0)
    #expect(hit.stdout == "Follow the white rabbit. \u{1F430}\n")

    let miss = try searchctl(["search", "-p", port, "needle"])
    #expect(miss.status == 1)
    #expect(miss.stdout == "No match for \"needle\".\n")

    let dog = try searchctl(["search", "--port", port, "\u{1F436}"])
    #expect(dog.stdout == "\u{1F43E} Playing ball! \u{1F3D0}\n")

    let bin = try searchctl(["binary", "-p", port, "binary\u{1F603}"])
    #expect(bin.status == 0)
    #expect(bin.stdout == "First 10 bytes of request: binary\u{1F603}\n")

    let stdin = try searchctl(["binary", "-p", port, "--file", "-"], stdin: Data("from stdin, long".utf8))
    #expect(stdin.stdout == "First 10 bytes of request: from stdin\n")

    let invalid = try searchctl(["search", "-p", port, "--action", "find", "x"])
    #expect(invalid.status == 3)
    #expect(invalid.stdout == "Error: invalid action \"find\".\n")
  }

  /// One line per suggestion (key, value, typos), exit 0; none is exit 1; a bad option is
  /// the server's error reply, exit 3.
  @Test func suggestPrintsKeysValuesAndTyposWithItsExitStatuses() throws {
    let daemon = try Daemon()
    let port = "\(daemon.appPort)"
    let found = try searchctl(["suggest", "-p", port, "morphues"])
    #expect(found.status == 0)
    #expect(found.stdout == "morpheus\tFollow the white rabbit. \u{1F430}\t1 typo\n")
    let two = try searchctl(["-p", port, "suggest", "", "--limit", "2", "--typos", "0"])
    #expect(
      two.stdout
        == "\u{1F436}\t\u{1F43E} Playing ball! \u{1F3D0}\t0 typos\nring\tIn the caves beneath the Misty Mountains. \u{1F48D}\t0 typos\n"
    )
    let none = try searchctl(["suggest", "-p", port, "zzzz"])
    #expect(none.status == 1)
    #expect(none.stdout == "")
    let bad = try searchctl(["suggest", "-p", port, "ring", "--limit", "0"])
    #expect(bad.status == 3)
    #expect(bad.stdout.hasPrefix("Error: \"limit\" must be an integer from 1 to 100"))
    let json = try searchctl(["suggest", "-p", port, "--json", "morphues"])
    #expect(json.status == 0)
    #expect(json.stdout.contains(#""typos" : 1"#) || json.stdout.contains(#""typos":1"#), "\(json.stdout)")
  }

  @Test func environmentChoosesTheServer() throws {
    let daemon = try Daemon()
    let r = try searchctl(
      ["search", "ring"], environment: ["SEARCHD_HOST": "localhost", "SEARCHD_PORT": "\(daemon.appPort)"])
    #expect(r.status == 0)
    #expect(r.stdout == "In the caves beneath the Misty Mountains. \u{1F48D}\n")
  }

  @Test func jsonOutputHoldsHeaderAndContent() throws {
    let daemon = try Daemon()
    let r = try searchctl(["search", "--json", "-p", "\(daemon.appPort)", "morpheus"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    let header = try #require(object["header"] as? [String: Any])
    #expect(header["content-length"] as? Int == 43)
    #expect(header["content-type"] as? String == "text/json")
    #expect((object["content"] as? [String: Any])?["result"] as? String == "Follow the white rabbit. \u{1F430}")
    #expect(object["status"] as? Int == 0)
  }

  @Test func verboseShowsTheBytesAsTheTutorialDoes() throws {
    let daemon = try Daemon()
    let r = try searchctl(["search", "-v", "-p", "\(daemon.appPort)", "morpheus"])
    #expect(
      r.stderr.contains(
        #"sending b'\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}{"action": "search", "value": "morpheus"}'"#
      ))
    #expect(r.stderr.contains(#"received b'\x00g{"byteorder": "little""#))
    #expect(r.stderr.contains(#"\xf0\x9f\x90\xb0"}'"#))
  }

  @Test func refusedConnectionIsExplained() throws {
    let daemon = try Daemon()
    let port = daemon.appPort
    daemon.stop()
    let r = try searchctl(["search", "-p", "\(port)", "morpheus"])
    #expect(r.status == 2)
    #expect(
      r.stderr
        == "searchctl: cannot connect to 127.0.0.1:\(port): connection refused (is searchd running? `systemctl start searchd`)\n"
    )
    #expect(!r.stderr.contains("Fatal error"))
  }

  @Test func silentServerTimesOut() throws {
    let listener = try TestListener()
    let r = try searchctl(["search", "-p", "\(listener.port)", "--timeout", "0.5", "morpheus"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("did not answer in time"))
  }

  @Test func connectionOptionsGoBeforeOrAfterTheSubcommand() throws {
    let daemon = try Daemon(echo: true)
    let port = "\(daemon.appPort)"
    let before = try searchctl(["-p", port, "search", "morpheus"])
    #expect(before.status == 0 && before.stdout == "Follow the white rabbit. \u{1F430}\n", "\(before.stderr)")
    // After the subcommand wins: the wrong port before it is not used.
    let both = try searchctl(["-p", "1", "--timeout", "2", "search", "-p", port, "morpheus"])
    #expect(both.status == 0, "\(both.stderr)")
    let bracketed = try searchctl(["-H", "[127.0.0.1]", "-p", port, "ping"])
    #expect(bracketed.status == 0 && bracketed.stdout == "127.0.0.1:\(port) is alive\n", "\(bracketed.stderr)")
    // SEARCHD_PORT names the search service; echo has SEARCHD_ECHO_PORT.
    let echo = try searchctl(
      ["echo", "--json", "hello"],
      environment: ["SEARCHD_PORT": port, "SEARCHD_ECHO_PORT": "\(daemon.echoPort)"])
    #expect(echo.status == 0, "\(echo.stderr)")
    #expect(echo.stdout == #"{"connections":1,"intact":1,"received_text":"hello","sent_bytes":5}"# + "\n")
  }

  @Test func pingExitsZeroWhenAliveAndTwoWhenNot() throws {
    let daemon = try Daemon()
    let alive = try searchctl(["ping", "-p", "\(daemon.appPort)"])
    #expect(alive.status == 0)
    let listener = try TestListener()
    let silent = try searchctl(["ping", "-p", "\(listener.port)", "--timeout", "0.5"])
    #expect(silent.status == 2)
    #expect(silent.stderr.contains("did not answer in time"))
  }

  @Test func aCertificateWithoutItsKeySaysWhereTheKeyGoes() throws {
    let certs = try Certificates()
    let r = try searchctl(["search", "-p", "1", "--tls", "--cert", certs.path("server"), "x"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("give it with --key FILE"), "\(r.stderr)")
  }

  @Test(arguments: [
    ["search"], ["bogus"], ["search", "--port", "x", "a"], ["binary"], ["echo"], ["search", "--timeout", "-1", "a"],
  ])
  func usageErrorsExit64(_ args: [String]) throws {
    let r = try searchctl(args)
    #expect(r.status == 64)
    #expect(!r.stderr.isEmpty)
  }
}

/// A listening socket that never accepts or answers: a server that hangs.
final class TestListener {
  let listener: Listener
  let port: UInt16
  init() throws {
    listener = try Listener.bind(.ipv4(host: [127, 0, 0, 1], port: 0), backlog: 8)
    guard case .ipv4(_, let p)? = listener.address else { throw TestTimeout() }
    port = p
  }
  deinit { listener.close() }
}
