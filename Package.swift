// swift-tools-version:6.0
import PackageDescription

/// The hot path's modules drop the runtime exclusivity checks in release builds only (rule 3,
/// docs/PERFORMANCE.md); the tests' debug builds keep them.
let releaseHotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
  name: "searchd",
  products: [
    .executable(name: "searchd", targets: ["searchd"]),
    .executable(name: "searchctl", targets: ["searchctl"]),
    .executable(name: "searchd-index", targets: ["searchd-index"]),
    // For the fuzzer package in Fuzz/, which must be built with flags the daemon must not see:
    // the codec, the connection state machine it drives (and its limits), and the index format.
    .library(name: "SearchdWire", targets: ["SearchdWire"]),
    .library(name: "SearchdServer", targets: ["SearchdServer"]),
    .library(name: "SearchdIndex", targets: ["SearchdIndex"]),
    .library(name: "SearchdConfig", targets: ["SearchdConfig"]),
    // The Swift client library: what searchctl itself is built on.
    .library(name: "SearchdClient", targets: ["SearchdClient"]),
    // The reference rules the request reader is tested against, for the fuzzer's oracle too.
    .library(name: "SearchdTestSupport", targets: ["TestSupport"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
  ],
  targets: [
    .target(
      name: "CShims",
      path: "CShims",
      cSettings: [.define("_GNU_SOURCE")],
      linkerSettings: [.linkedLibrary("systemd"), .linkedLibrary("uring")]
    ),
    .target(name: "SearchdSystem", dependencies: ["CShims"]),
    .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
    .target(name: "SearchdTLS", dependencies: ["COpenSSL"]),
    .plugin(name: "VersionStamp", capability: .buildTool(), path: "Sources/VersionStamp"),
    .target(name: "SearchdVersion", plugins: ["VersionStamp"]),
    // searchd's flags, generated from the settings table's source at build time.
    .plugin(name: "SettingFlagsPlugin", capability: .buildTool(), path: "Sources/SettingFlagsPlugin"),
    .target(name: "SearchdLoop", dependencies: ["SearchdSystem"], swiftSettings: releaseHotPath),
    .target(name: "SearchdWire"),
    // Every setting, defined once (Settings.all), and what they make: ServerConfig.
    .target(
      name: "SearchdConfig",
      dependencies: ["SearchdSystem", "SearchdWire", "SearchdTLS", .product(name: "Logging", package: "swift-log")]),
    .target(name: "SearchdIndex", dependencies: ["SearchdWire", "SearchdSystem"]),
    .target(name: "SearchdClient", dependencies: ["SearchdWire", "SearchdSystem", "SearchdTLS"]),
    .target(
      name: "SearchdServer",
      dependencies: [
        "SearchdLoop", "SearchdWire", "SearchdIndex", "SearchdSystem", "SearchdTLS", "SearchdVersion", "SearchdConfig",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Atomics", package: "swift-atomics"),
      ],
      swiftSettings: releaseHotPath
    ),
    .executableTarget(
      name: "searchd",
      dependencies: [
        "SearchdServer", "SearchdConfig", "SearchdSystem", "SearchdIndex", "SearchdVersion", "SearchdTLS",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      plugins: ["SettingFlagsPlugin"]
    ),
    .executableTarget(
      name: "searchd-index",
      dependencies: [
        "SearchdIndex", "SearchdSystem", "SearchdVersion",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(
      name: "searchctl",
      dependencies: [
        "SearchdClient", "SearchdWire", "SearchdSystem", "SearchdVersion", "SearchdTLS",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
        .product(name: "Atomics", package: "swift-atomics"),
      ]
    ),
    .testTarget(name: "SearchdSystemTests", dependencies: ["SearchdSystem"]),
    .testTarget(name: "SearchdLoopTests", dependencies: ["SearchdLoop", "SearchdSystem"]),
    .testTarget(name: "SearchdWireTests", dependencies: ["SearchdWire", "TestSupport"]),
    // Optimised even in debug builds: the suggest tests' brute-force reference measures
    // every key of a 100,000-key index for each of 2,000 queries (minutes unoptimised).
    .testTarget(
      name: "SearchdIndexTests", dependencies: ["SearchdIndex", "IntegrationSupport"],
      swiftSettings: [.unsafeFlags(["-O"])]),
    .testTarget(
      name: "SearchdServerTests",
      dependencies: [
        "SearchdServer", "SearchdConfig", "SearchdWire", "SearchdIndex", "SearchdSystem", "SearchdTLS",
        "IntegrationSupport", .product(name: "Logging", package: "swift-log"),
        .product(name: "Atomics", package: "swift-atomics"),
      ]),
    // The test helpers, each written once. Two targets: the protocol's reference and test
    // vectors need nothing but the wire module (the fuzz package links them too); the
    // helpers that drive real processes, sockets and files need Foundation. Release
    // builds compile both, so the helpers throw CheckFailed rather than use Testing.
    // Test targets import the second `@testable`, so its helpers need no `public`.
    .target(name: "TestSupport", dependencies: ["SearchdWire"], path: "Tests/TestSupport"),
    .target(
      name: "IntegrationSupport", dependencies: ["TestSupport", "SearchdWire", "SearchdSystem", "CShims"],
      path: "Tests/IntegrationSupport"),
    .testTarget(
      name: "IntegrationTests",
      dependencies: [
        "TestSupport", "IntegrationSupport", "SearchdWire", "SearchdSystem", "SearchdServer", "SearchdConfig",
        "SearchdClient", "SearchdTLS", "searchd",
        "searchctl", "searchd-index",
      ],
      exclude: ["Python", "Systemd/sandbox.sh"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
