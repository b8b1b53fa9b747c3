import Foundation

/// The admin listener as a test reaches it: its port from the ready line, one HTTP
/// exchange per connection, and a sample's value in /metrics.
extension Daemon {
  func adminPort() throws -> UInt16 {
    let line = try required(waitForLog("searchd ready", timeout: 5), "the ready line")
    let r = try required(line.range(of: "admin=127.0.0.1:"), "admin= in \(line)")
    return try required(UInt16(line[r.upperBound...].prefix { $0.isNumber }), "the admin port in \(line)")
  }
}

enum AdminHTTP {
  /// One HTTP exchange: the raw bytes sent, everything read until the close.
  static func exchange(_ port: UInt16, _ request: [UInt8]) throws -> String {
    let c = try TestClient(port: port)
    defer { c.close() }
    try c.send(request)
    return String(decoding: try c.readAll(timeout: 5), as: UTF8.self)
  }

  static func get(_ port: UInt16, _ path: String, method: String = "GET") throws -> String {
    try exchange(port, Array("\(method) \(path) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
  }

  /// A sample's value in an exposition (the first line starting with `name`).
  static func value(_ text: String, _ name: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
  }
}
