import Foundation
import PackagePlugin

/// Writes the VERSION file at the package's root into a Swift constant, so the binaries,
/// the Debian package (`make deb`) and the metrics' build info all read one file. VERSION is
/// the command's input, so editing it rebuilds what shows it.
@main
struct VersionStamp: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    let source = context.package.directoryURL.appending(path: "VERSION")
    let output = context.pluginWorkDirectoryURL.appending(path: "StampedVersion.swift")
    // A shell line, not a tool of our own: a plugin's executable would be one more build.
    let script =
      #"v=$(tr -d ' \n' < "$1") && printf '// Generated from VERSION.\nlet stampedVersion = "%s"\n' "$v" > "$2""#
    return [
      .buildCommand(
        displayName: "Stamping version from VERSION",
        executable: URL(fileURLWithPath: "/bin/sh"),
        arguments: ["-c", script, "sh", source.path, output.path],
        inputFiles: [source],
        outputFiles: [output])
    ]
  }
}
