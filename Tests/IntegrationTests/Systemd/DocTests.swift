import Foundation
import Testing

@testable import IntegrationSupport

/// Every shell block a user would run in README.md and docs/ is run as written. A block
/// says where above it: `<!-- doc-test: scratch -->` (this machine, in a scratch folder
/// holding copies of deploy/, systemd/ and clients/, with the built binaries first on the
/// PATH), `<!-- doc-test: sandbox -->` (the throwaway systemd with the `make install` tree,
/// in such a folder), or `<!-- doc-test: skip REASON -->`. A `console` block's `$ ` lines
/// are commands and the lines under one are its exact output (and the last must exit 0);
/// an `sh` block runs under `set -e` and must exit 0.
/// Background jobs a block starts are killed when it ends. Part of SystemdTests: blocks use
/// the shipped ports, which no other test holds while these run.
extension SystemdTests {
  struct DocBlock: CustomStringConvertible {
    enum Mode: Equatable {
      case scratch, sandbox
      case skip(String)
    }
    let file: String
    let line: Int
    let mode: Mode?
    let console: Bool
    let body: [String]
    var description: String { "\(file):\(line)" }
  }

  static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  static let documents: [String] = {
    let docs =
      (try? FileManager.default.contentsOfDirectory(atPath: sourceRoot.appendingPathComponent("docs").path)) ?? []
    return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/\($0)" }
  }()

  /// The shell blocks of `file` (sh, bash, console) and the marker above each.
  static func blocks(in file: String) throws -> [DocBlock] {
    let text = try String(contentsOf: sourceRoot.appendingPathComponent(file), encoding: .utf8)
    let lines = text.components(separatedBy: "\n")
    var out: [DocBlock] = []
    var i = 0
    while i < lines.count {
      let fence = lines[i].trimmingCharacters(in: .whitespaces)
      guard fence.hasPrefix("```"), fence.count > 3 else {
        if fence.hasPrefix("```") {
          // A block of another kind (or none): skip to its end.
          i += 1
          while i < lines.count && !lines[i].trimmingCharacters(in: .whitespaces).hasPrefix("```") { i += 1 }
        }
        i += 1
        continue
      }
      let language = String(fence.dropFirst(3))
      let start = i
      var body: [String] = []
      i += 1
      while i < lines.count && !lines[i].trimmingCharacters(in: .whitespaces).hasPrefix("```") {
        body.append(lines[i])
        i += 1
      }
      i += 1
      guard ["sh", "bash", "console"].contains(language) else { continue }
      var mode: DocBlock.Mode?
      if start > 0, let marker = lines[start - 1].firstMatch(of: /<!-- doc-test: (\w+)\s*(.*?)\s*-->/) {
        switch marker.1 {
        case "scratch": mode = .scratch
        case "sandbox": mode = .sandbox
        case "skip" where !marker.2.isEmpty: mode = .skip(String(marker.2))
        default: mode = nil
        }
      }
      out.append(DocBlock(file: file, line: start + 1, mode: mode, console: language == "console", body: body))
    }
    return out
  }

  @Test func everyShellBlockInTheDocsSaysHowItIsRun() throws {
    var blocks: [DocBlock] = []
    for file in Self.documents { blocks += try Self.blocks(in: file) }
    #expect(blocks.count > 10, "the parser finds the docs' blocks")
    let unmarked = blocks.filter { $0.mode == nil }
    #expect(unmarked.isEmpty, "no doc-test marker (scratch, sandbox or skip REASON) above: \(unmarked)")
  }

  /// The bash script that runs `block` in `folder`, and for a console block the marker
  /// printed before each command's output.
  static func script(_ block: DocBlock, in folder: String) -> String {
    // A console block's commands may exit non-zero (`search needle; echo $?`): what it
    // shows is what is checked.
    var script = """
      \(block.console ? "" : "set -eo pipefail")
      trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT
      cd \(folder)

      """
    if block.console {
      var n = 0
      for line in block.body where line.hasPrefix("$ ") {
        script += "printf '@@doc-command-\(n)@@\\n'\n" + line.dropFirst(2) + "\n"
        n += 1
      }
    } else {
      script += block.body.joined(separator: "\n") + "\n"
    }
    return script
  }

  /// The output a console block shows under each command.
  static func expectedOutputs(_ block: DocBlock) -> [String] {
    var outputs: [[String]] = []
    for line in block.body {
      if line.hasPrefix("$ ") {
        outputs.append([])
      } else if !outputs.isEmpty {
        outputs[outputs.count - 1].append(line)
      }
    }
    return outputs.map { $0.joined(separator: "\n") }
  }

  /// Checks a block's run: exit 0, and for a console block each command's exact output
  /// (where the block shows one).
  static func check(_ block: DocBlock, _ r: (status: Int32, stdout: String, stderr: String)) {
    #expect(r.status == 0, "\(block) exited \(r.status):\n\(r.stdout.suffix(1500))\n\(r.stderr.suffix(1500))")
    guard block.console else { return }
    let got = r.stdout.split(separator: /@@doc-command-\d+@@\n/, omittingEmptySubsequences: false).dropFirst()
      .map { String($0.hasSuffix("\n") ? $0.dropLast() : $0) }
    for (i, expected) in expectedOutputs(block).enumerated() where !expected.isEmpty {
      #expect(
        i < got.count && got[i] == expected, "\(block), command \(i + 1): \(i < got.count ? got[i] : "(not run)")")
    }
  }

  /// A scratch folder under `parent` with copies of the folders the docs' commands name.
  static func scratchFolder(under parent: String) throws -> String {
    let folder = parent + "/searchd-docs-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let names = ["deploy", "systemd", "clients"].map { Self.sourceRoot.appendingPathComponent($0).path }
    // What a build left in clients/ (a wheel's build folder, caches) is not the user's.
    let r = try runProcess(
      URL(fileURLWithPath: "/bin/sh"),
      [
        "-c",
        "cd \"$1\" && shift && cp -a \"$@\" . && find clients -name build -o -name '*.egg-info' -o -name '.*_cache' | xargs rm -rf",
        "copy", folder,
      ] + names, timeout: 30)
    #expect(r.status == 0, "\(r.stderr)")
    return folder
  }

  @Test(arguments: documents) func theDocsShellBlocksRunAsWritten(_ file: String) throws {
    let blocks = try Self.blocks(in: file)
    let scratch = blocks.filter { $0.mode == .scratch }
    let boxed = blocks.filter { $0.mode == .sandbox }
    if !scratch.isEmpty {
      let folder = try Self.scratchFolder(under: NSTemporaryDirectory())
      defer { try? FileManager.default.removeItem(atPath: folder) }
      let path = Binaries.directory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
      for block in scratch {
        let r = try runProcess(
          URL(fileURLWithPath: "/bin/bash"), ["-c", Self.script(block, in: folder)], environment: ["PATH": path],
          timeout: 240)
        Self.check(block, r)
      }
    }
    if !boxed.isEmpty {
      // The folder goes in with the sandbox's tree, which is copied over its root at boot.
      let tree = ProcessInfo.processInfo.environment["SEARCHD_SYSTEMD_TREE"]!
      let folder = try Self.scratchFolder(under: tree + "/var/tmp")
      let sandbox: SystemdSandbox
      do {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        sandbox = try SystemdSandbox()
      }
      for block in boxed {
        let inside = "/var/tmp/" + URL(fileURLWithPath: folder).lastPathComponent
        let r = try sandbox.run("bash", "-c", Self.script(block, in: inside), timeout: 240)
        Self.check(block, r)
      }
    }
  }
}
