// swift-tools-version: 6.0
// The protocol served with SwiftNIO, written the way a Swift user would: what searchd is
// measured against in `make bench`. Its own package, so searchd never depends on NIO.
import PackageDescription

let package = Package(
  name: "nio-server",
  platforms: [.macOS(.v13)],
  dependencies: [.package(url: "https://github.com/apple/swift-nio", from: "2.101.0")],
  targets: [
    .executableTarget(
      name: "NIOSearchServer",
      dependencies: [
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOFoundationCompat", package: "swift-nio"),
      ]
    )
  ]
)
