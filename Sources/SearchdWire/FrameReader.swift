/// What a frame's JSON header says, read once by `FrameReader`.
public struct FrameHead: Sendable, Equatable {
  public var contentLength: Int
  /// byteorder, content-type and content-encoding hold strings (else refused; the framing holds).
  public var fieldsAreStrings: Bool
  public var isJSON: Bool
  /// The encoding content-encoding names, if searchd reads it.
  public var encoding: TextEncoding?
}

/// The one reader of the framing (a 2-byte length, a JSON header, content) and of every header
/// rule. A header repeated byte for byte (pipelining repeats it) is the last one's result.
public struct FrameReader: Sendable {
  public enum Result {
    case incomplete
    case frame(FrameHead, content: Range<Int>)
    /// Cannot be framed any further (`failure` says why): close. No payload: rule 2.
    case failed
  }

  public let limits: WireLimits
  public private(set) var failure: WireError?
  private var members = MemberReader()
  private var cachedHeader: [UInt8] = []
  private var cachedHead: FrameHead?

  public init(limits: WireLimits = .default) { self.limits = limits }

  /// The frame at the start of `bytes`, if it is there whole.
  @inline(__always) public mutating func next(in bytes: UnsafeRawBufferPointer) -> Result {
    guard bytes.count >= 2 else { return .incomplete }
    let length = Int(bytes[0]) << 8 | Int(bytes[1])
    do throws(WireError) {
      // Judged at once: waiting for 64 KiB that will be refused anyway helps no one.
      if let refusal = limits.refusal(headerLength: length) { throw refusal }
      guard bytes.count >= 2 + length else { return .incomplete }
      let header = UnsafeRawBufferPointer(rebasing: bytes[2..<(2 + length)])
      if cachedHead == nil || !cachedHeader.withUnsafeBytes({ header.equals($0) }) {
        cachedHead = try read(header)
        cachedHeader.removeAll(keepingCapacity: true)
        cachedHeader.append(contentsOf: header)
      }
    } catch {
      (cachedHead, failure) = (nil, error)  // a failed read leaves `members` describing no header
      return .failed
    }
    let head = cachedHead!
    let end = 2 + length + head.contentLength
    guard bytes.count >= end else { return .incomplete }
    return .frame(head, content: (2 + length)..<end)
  }

  /// The last frame's byteorder (0), content-type (1) or content-encoding (2), if a string.
  public func field(_ i: Int) -> UnsafeRawBufferPointer? { members.string(i, in: cachedHeader.withUnsafeBytes { $0 }) }

  /// The header rules in the order they refuse: JSON, an object, no key twice (parsers may
  /// pick different duplicates: smuggling), each required key, an integer length in the limit.
  private mutating func read(_ header: UnsafeRawBufferPointer) throws(WireError) -> FrameHead {
    do throws(JSONParser.Failure) {
      try members.read(
        header, Header.required, maxDepth: limits.maxJSONDepth, knownUTF8: false, refusingDuplicates: true)
    } catch {
      let why = [.invalidUTF8: "not valid UTF-8", .tooDeep: "nests too deep", .notAnObject: "not an object"][error]
      throw .framing(.badHeader, "the JSON header is \(why ?? "not valid JSON")")
    }
    if let duplicate = members.duplicate { throw .framing(.badHeader, "duplicate header \"\(duplicate)\"") }
    for i in 0..<4 where members.found[i] == .absent {
      throw .framing(.missingHeader, "missing required header \"\(Header.requiredKeys[i])\"")
    }
    guard case .integer(let length) = members.found[3], length >= 0 else {
      throw .framing(.badContentLength, "content-length must be a non-negative integer")
    }
    if let refusal = limits.refusal(contentLength: length) { throw refusal }
    let (type, encoding) = (members.string(1, in: header), members.string(2, in: header))
    return FrameHead(
      contentLength: length, fieldsAreStrings: members.string(0, in: header) != nil && type != nil && encoding != nil,
      isJSON: type?.equals(Message.jsonTypeLiteral) == true, encoding: encoding.flatMap(TextEncoding.init(name:)))
  }
}
