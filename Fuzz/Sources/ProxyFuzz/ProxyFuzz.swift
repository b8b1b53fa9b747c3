import SearchdWire

/// One fuzz input: the first bytes of a connection on a PROXY listener, as they arrive.
/// Whatever they are, the decoder says "more", "invalid" or a header no longer than the
/// input and the limit; fed the input in two pieces, it agrees with itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  let whole = ProxyHeader.decode(bytes)
  switch whole {
  case .header(let header, let length):
    precondition(length <= size && length <= ProxyHeader.maxLength, "a header longer than what was read")
    // Exactly the header's bytes decode to the same header: nothing after it was needed.
    precondition(ProxyHeader.decode(UnsafeRawBufferPointer(rebasing: bytes[..<length])) == whole)
    if header.command == .proxy { precondition(header.source != nil, "a PROXY command without a client") }
    // Any shorter prefix is not yet a header.
    if length > 0 {
      let cut = UnsafeRawBufferPointer(rebasing: bytes[..<(length - 1)])
      if case .header = ProxyHeader.decode(cut) { preconditionFailure("a prefix decoded as a whole header") }
    }
  case .needMore:
    precondition(size < ProxyHeader.maxLength, "more wanted past the limit")
  case .invalid:
    // Invalid stays invalid however much more comes.
    var longer = Array(bytes)
    longer.append(contentsOf: [0x0D, 0x0A])
    if case .needMore = longer.withUnsafeBytes({ ProxyHeader.decode($0) }) {
      preconditionFailure("invalid input became incomplete")
    }
  }
  return 0
}
