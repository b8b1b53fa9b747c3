import Foundation
import NIOCore
import NIOFoundationCompat
import NIOPosix

/// One request: the JSON header and the content, as the protocol frames them.
struct Frame {
  var header: Header
  var content: ByteBuffer
}

struct Header: Codable {
  var byteorder: String
  var contentType: String
  var contentEncoding: String
  var contentLength: Int

  enum CodingKeys: String, CodingKey {
    case byteorder
    case contentType = "content-type"
    case contentEncoding = "content-encoding"
    case contentLength = "content-length"
  }
}

struct SearchRequest: Codable {
  var action: String
  var value: String?
}

/// 2-byte length, JSON header, content.
struct FrameDecoder: ByteToMessageDecoder {
  typealias InboundOut = Frame

  mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    guard let headerLength = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
      let headerBytes = buffer.getSlice(at: buffer.readerIndex + 2, length: Int(headerLength))
    else { return .needMoreData }
    let header = try JSONDecoder().decode(Header.self, from: headerBytes)
    guard buffer.readableBytes >= 2 + Int(headerLength) + header.contentLength else { return .needMoreData }
    buffer.moveReaderIndex(forwardBy: 2 + Int(headerLength))
    let content = buffer.readSlice(length: header.contentLength)!
    context.fireChannelRead(wrapInboundOut(Frame(header: header, content: content)))
    return .continue
  }
}

final class SearchHandler: ChannelInboundHandler, Sendable {
  typealias InboundIn = Frame
  typealias OutboundOut = ByteBuffer

  static let index = [
    "morpheus": "Follow the white rabbit. \u{1F430}",
    "ring": "In the caves beneath the Misty Mountains. \u{1F48D}",
    "\u{1F436}": "\u{1F43E} Playing ball! \u{1F3D0}",
  ]

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    let (type, encoding, content): (String, String, [UInt8])
    if frame.header.contentType == "text/json" {
      let request = try? JSONDecoder().decode(SearchRequest.self, from: frame.content)
      let result: String
      switch request {
      case let r? where r.action == "search":
        let q = r.value ?? ""
        result = Self.index[q] ?? "No match for \"\(q)\"."
      case let r?: result = "Error: invalid action \"\(r.action)\"."
      case nil: result = "Error: bad request."
      }
      let body = try! JSONSerialization.data(withJSONObject: ["result": result], options: [.withoutEscapingSlashes])
      (type, encoding, content) = ("text/json", "utf-8", Array(body))
    } else {
      let first = frame.content.getBytes(at: frame.content.readerIndex, length: min(10, frame.content.readableBytes))!
      (type, encoding, content) = ("binary/custom-server-binary-type", "binary", Array("First 10 bytes of request: ".utf8) + first)
    }
    let header = Array(
      "{\"byteorder\": \"little\", \"content-type\": \"\(type)\", \"content-encoding\": \"\(encoding)\", \"content-length\": \(content.count)}"
        .utf8)
    var out = context.channel.allocator.buffer(capacity: 2 + header.count + content.count)
    out.writeInteger(UInt16(header.count))
    out.writeBytes(header)
    out.writeBytes(content)
    context.write(wrapOutboundOut(out), promise: nil)
  }

  // Pipelined replies go out in one flush per read burst, as NIO servers usually do.
  func channelReadComplete(context: ChannelHandlerContext) { context.flush() }

  func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

@main
struct NIOSearchServer {
  static func main() throws {
    let args = CommandLine.arguments
    let port = args.count > 1 ? Int(args[1]) ?? 0 : 0
    let threads = args.count > 2 ? Int(args[2]) ?? System.coreCount : System.coreCount
    let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    let channel = try ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 4096)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
          try channel.pipeline.syncOperations.addHandler(SearchHandler())
        }
      }
      .bind(host: "127.0.0.1", port: port).wait()
    FileHandle.standardOutput.write(Data("listening on 127.0.0.1:\(channel.localAddress!.port!)\n".utf8))
    try channel.closeFuture.wait()
  }
}
