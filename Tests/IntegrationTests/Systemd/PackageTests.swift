import Foundation
import Glibc
import Testing

@testable import IntegrationSupport

/// The Debian package as a user meets it: `make deb` built it (SEARCHD_DEB), and apt installs
/// it into a throwaway systemd whose root has no Swift toolchain (its library folder is an
/// empty tmpfs there) and no `make install` tree. Part of SystemdTests, so it never runs
/// beside another test that owns 127.0.0.1:65432.
extension SystemdTests {
  private static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// The folder holding the toolchain's Swift runtime (`…/usr/lib`), from this test
  /// process's own mappings: whatever the toolchain, this is where libswiftCore.so lives.
  private static func toolchainLibraries() throws -> String {
    let maps = try #require(FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile())
    let line = try #require(
      String(decoding: maps, as: UTF8.self).split(separator: "\n").first { $0.hasSuffix("/libswiftCore.so") })
    let path = URL(fileURLWithPath: String(line[line.firstIndex(of: "/")!...]))
    // …/usr/lib/swift/linux/libswiftCore.so
    return path.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  }

  @Test func debianPackageInstallsServesReloadsUpgradesRemovesAndPurges() throws {
    let deb = try #require(
      ProcessInfo.processInfo.environment["SEARCHD_DEB"],
      "SEARCHD_DEB is not set: run this through `make test`, which builds the package with `make deb`")
    let version = try String(contentsOf: Self.repository.appendingPathComponent("VERSION"), encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(deb.hasSuffix("/searchd_\(version)_amd64.deb"), "the file is named from VERSION: \(deb)")

    // The package goes in through the sandbox's tree; the host's /tmp is not visible inside.
    let tree = NSTemporaryDirectory() + "searchd-deb-tree-\(UUID().uuidString.prefix(8))"
    defer { try? FileManager.default.removeItem(atPath: tree) }
    try FileManager.default.createDirectory(atPath: tree + "/var/cache/searchd-test", withIntermediateDirectories: true)
    let inside = "/var/cache/searchd-test/" + URL(fileURLWithPath: deb).lastPathComponent
    try FileManager.default.copyItem(atPath: deb, toPath: tree + inside)
    let libraries = try Self.toolchainLibraries()
    let sandbox = try SystemdSandbox(tree: tree, hiding: [libraries])
    #expect(try sandbox.run("test", "-e", libraries + "/swift/linux/libswiftCore.so").status == 1, "toolchain hidden")
    #expect(try sandbox.run("test", "-e", "/usr/local/bin/searchd").status == 1, "no make-install tree")

    // A container image's policy-rc.d (exit 101) forbids maintainer scripts to start
    // services; a Debian machine has none, and neither does this one.
    try sandbox.run("rm", "-f", "/usr/sbin/policy-rc.d")
    let installed = try sandbox.run(
      "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends", inside,
      timeout: 180)
    #expect(installed.status == 0, "\(installed.stdout.suffix(1500))\(installed.stderr)")
    for unit in ["searchd.socket", "searchd-echo.socket", "searchd.service"] {
      #expect(try sandbox.run("systemctl", "is-enabled", unit).stdout == "enabled\n", "\(unit) enabled")
    }
    for unit in ["searchd.socket", "searchd-echo.socket"] {
      #expect(try sandbox.run("systemctl", "is-active", unit).stdout == "active\n", "\(unit) started")
    }
    #expect(try sandbox.property("ActiveState") == "inactive", "the service waits for its first client")

    // The packaged searchctl, with no toolchain, asks; socket activation starts the service.
    let morpheusLine = "Follow the white rabbit. \u{1F430}\n"
    let search = try sandbox.run("searchctl", "search", "morpheus")
    #expect(search.status == 0, "\(search.stderr)")
    #expect(search.stdout == morpheusLine)
    #expect(try sandbox.property("ActiveState") == "active")
    #expect(try sandbox.property("ExecStart").contains("path=/usr/bin/searchd"))
    // The fleet's replica template ships with the binary's installed path.
    let template = try sandbox.run("cat", "/lib/systemd/system/searchd@.service")
    #expect(template.stdout.contains("ExecStart=/usr/bin/searchd --config /etc/searchd/%i.conf"), "\(template)")

    for tool in ["searchd", "searchctl", "searchd-index"] {
      let r = try sandbox.run(tool, "--version")
      #expect(r.status == 0 && r.stdout == version + "\n", "\(tool) --version: \(r.stdout)\(r.stderr)")
      let ldd = try sandbox.run("ldd", "/usr/bin/" + tool)
      #expect(ldd.status == 0 && ldd.stdout.contains("libc.so.6"), "\(ldd.stdout)\(ldd.stderr)")
      #expect(!ldd.stdout.contains("libswift") && !ldd.stdout.contains("libFoundation"), "\(tool): \(ldd.stdout)")
      #expect(!ldd.stdout.contains("not found"), "\(tool): \(ldd.stdout)")
    }
    #expect(try sandbox.run("dpkg-query", "-W", "-f=${Version}", "searchd").stdout == version)
    let conffiles = try sandbox.run("dpkg-query", "-W", "-f=${Conffiles}", "searchd").stdout
    #expect(conffiles.contains("/etc/searchd/searchd.conf"), "\(conffiles)")
    for path in [
      "/usr/share/man/man8/searchd.8.gz", "/usr/share/man/man1/searchctl.1.gz",
      "/usr/share/man/man1/searchd-index.1.gz",
      "/usr/share/bash-completion/completions/searchctl", "/usr/share/zsh/vendor-completions/_searchctl",
      "/usr/share/fish/vendor_completions.d/searchctl.fish", "/usr/share/doc/searchd/copyright",
      "/usr/share/doc/searchd/changelog.gz", "/usr/share/searchd/wireshark/searchd.lua",
    ] {
      #expect(try sandbox.run("test", "-s", path).status == 0, "\(path) installed")
    }

    // Reload re-reads the config; an admin's edit is kept by remove and taken by purge.
    let reload = try sandbox.run("systemctl", "reload", "searchd")
    #expect(reload.status == 0, "\(reload.stderr)")
    #expect(try sandbox.wait(10) { try sandbox.journal("MESSAGE_ID=\(MessageIDs.reload)").count == 1 })
    try sandbox.run("sh", "-c", "echo '# edited by the admin' >> /etc/searchd/searchd.conf")
    #expect(try sandbox.run("searchctl", "search", "morpheus").stdout == morpheusLine)

    // Installing it again is the upgrade path (postinst configure with the old version).
    let pid = try sandbox.property("MainPID")
    let again = try sandbox.run("dpkg", "-i", inside, timeout: 180)
    #expect(again.status == 0, "\(again.stdout.suffix(1500))\(again.stderr)")
    #expect(try sandbox.wait(10) { try sandbox.run("searchctl", "search", "morpheus").stdout == morpheusLine })
    #expect(try sandbox.property("MainPID") != pid, "an upgrade restarts a running service")
    #expect(try sandbox.run("grep", "-q", "edited by the admin", "/etc/searchd/searchd.conf").status == 0)
    #expect(try sandbox.run("test", "-d", "/var/lib/private/searchd").status == 0, "the StateDirectory exists")

    let removed = try sandbox.run("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "remove", "-y", "searchd")
    #expect(removed.status == 0, "\(removed.stdout.suffix(1500))\(removed.stderr)")
    for unit in ["searchd.socket", "searchd-echo.socket", "searchd.service"] {
      #expect(try sandbox.run("systemctl", "is-active", unit).stdout != "active\n", "\(unit) stopped")
    }
    #expect(try searchctl(["search", "morpheus"]).status != 0, "nothing listens on 65432 any more")
    #expect(try sandbox.run("test", "-e", "/usr/bin/searchd").status == 1)
    #expect(try sandbox.run("grep", "-q", "edited by the admin", "/etc/searchd/searchd.conf").status == 0)
    #expect(try sandbox.run("dpkg-query", "-W", "-f=${Status}", "searchd").stdout == "deinstall ok config-files")

    let purged = try sandbox.run("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "purge", "-y", "searchd")
    #expect(purged.status == 0, "\(purged.stdout.suffix(1500))\(purged.stderr)")
    for path in [
      "/etc/searchd", "/var/lib/private/searchd", "/var/lib/searchd",
      "/var/lib/systemd/deb-systemd-helper-enabled/searchd.service.dsh-also",
      "/etc/systemd/system/sockets.target.wants/searchd.socket",
      "/etc/systemd/system/multi-user.target.wants/searchd.service",
    ] {
      #expect(try sandbox.run("test", "-e", path).status == 1, "\(path) is gone after purge")
    }
    #expect(try sandbox.run("dpkg-query", "-W", "-f=${Status}", "searchd").status != 0, "dpkg forgets it")
  }
}
