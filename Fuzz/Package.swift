// swift-tools-version:6.0
// libFuzzer on the connection state machine and the frame codec, on the index file format,
// and on the PROXY header decoder. A package of its own: building with
// `--sanitize=fuzzer` compiles every executable as a library, which the daemon's
// main would not survive. Build and run with `make fuzz` at the top level.
import PackageDescription

let package = Package(
  name: "SearchdFuzz",
  dependencies: [.package(name: "searchd", path: "..")],
  targets: [
    .executableTarget(
      name: "FrameFuzz",
      dependencies: [
        .product(name: "SearchdWire", package: "searchd"), .product(name: "SearchdServer", package: "searchd"),
        .product(name: "SearchdConfig", package: "searchd"),
        .product(name: "SearchdTestSupport", package: "searchd"),
      ]
    ),
    .executableTarget(
      name: "IndexFuzz",
      dependencies: [.product(name: "SearchdIndex", package: "searchd"), .product(name: "SearchdWire", package: "searchd")]),
    .executableTarget(name: "ProxyFuzz", dependencies: [.product(name: "SearchdWire", package: "searchd")]),
  ],
  swiftLanguageModes: [.v6]
)
