import Foundation
import PackagePlugin

/// Generates searchd's command-line flags from the settings table (SettingFlagsGenerator),
/// so no setting's name is spelled a second time in the sources.
@main
struct SettingFlagsPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    let generator = try context.tool(named: "SettingFlagsGenerator")
    let output = context.pluginWorkDirectoryURL.appending(path: "SettingFlags.swift")
    let table = context.package.directoryURL.appending(path: "Sources/SearchdConfig/Settings.swift")
    return [
      .buildCommand(
        displayName: "Generating searchd's flags from the settings table",
        executable: generator.url,
        arguments: [output.path],
        inputFiles: [table],
        outputFiles: [output])
    ]
  }
}
