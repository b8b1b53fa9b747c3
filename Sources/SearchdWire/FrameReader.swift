/// What a frame's JSON header says, read once by `FrameReader`.
public struct FrameHead: Sendable, Equatable {
  public var contentLength: Int
  /// Which of byteorder, content-type and content-encoding hold strings (bits 1, 2, 4).
  /// One that does not is a request error: the framing holds.
  public var stringFields: UInt8
  /// content-type is `text/json`.
  public var isJSON: Bool
  /// The encoding content-encoding names, if searchd reads it.
  public var encoding: TextEncoding?

  public var fieldsAreStrings: Bool { stringFields == 7 }
}

/// The one reader of the framing (a 2-byte length, a JSON header, content) and of every
/// header rule, in place and allocating nothing once its buffers have grown. Stateless
/// between messages: given the bytes at a message boundary, it says whether a whole frame
/// is there. Repeated headers (pipelined requests repeat theirs byte for byte) are
/// answered from a cache of the last header's result, one memcmp.
public struct FrameReader: Sendable {
  public enum Result {
    /// Not whole yet (and nothing so far refused): read more.
    case incomplete
    case frame(FrameHead, content: Range<Int>)
    /// The stream cannot be framed any further (`failure` says why); the connection must
    /// close. No payload: a result that holds a String is copied with retains.
    case failed
  }

  public let limits: WireLimits
  /// The three string fields of the last header read (escapes resolved), as `FrameHead`'s bits say.
  public private(set) var byteorder: [UInt8] = []
  public private(set) var contentType: [UInt8] = []
  public private(set) var contentEncoding: [UInt8] = []
  /// Why the last read failed, if it did.
  public private(set) var failure: WireError?
  private var cachedHeader: [UInt8] = []
  private var cachedHead: FrameHead?
  private var keyScratch: [UInt8] = []
  private var valueScratch: [UInt8] = []
  private var seen = KeySet()

  public init(limits: WireLimits = .default) { self.limits = limits }

  /// The frame at the start of `bytes`, if it is there whole.
  @inline(__always) public mutating func next(in bytes: UnsafeRawBufferPointer) -> Result {
    guard bytes.count >= 2 else { return .incomplete }
    let length = Int(bytes[0]) << 8 | Int(bytes[1])
    // Judged at once: waiting for 64 KiB that will be refused anyway helps no one.
    if let refusal = limits.refusal(headerLength: length) {
      failure = refusal
      return .failed
    }
    guard bytes.count >= 2 + length else { return .incomplete }
    let header = UnsafeRawBufferPointer(rebasing: bytes[2..<(2 + length)])
    let head: FrameHead
    if let cached = cachedHead, cachedHeader.withUnsafeBytes({ header.equals($0) }) {
      head = cached
    } else {
      cachedHead = nil
      do throws(WireError) {
        head = try Self.read(
          header, limits, keys: &keyScratch, values: &valueScratch, seen: &seen, byteorder: &byteorder,
          contentType: &contentType, contentEncoding: &contentEncoding)
      } catch {
        failure = error
        return .failed
      }
      cachedHeader.removeAll(keepingCapacity: true)
      cachedHeader.append(contentsOf: header)
      cachedHead = head
    }
    let end = 2 + length + head.contentLength
    guard bytes.count >= end else { return .incomplete }
    return .frame(head, content: (2 + length)..<end)
  }

  /// The header rules, in the order they refuse: JSON, an object, no key twice (two
  /// parsers may pick different duplicates: a smuggling hazard), every required key, an
  /// integer content-length within the limit.
  private static func read(
    _ header: UnsafeRawBufferPointer, _ limits: WireLimits, keys: inout [UInt8], values: inout [UInt8],
    seen: inout KeySet, byteorder: inout [UInt8], contentType: inout [UInt8], contentEncoding: inout [UInt8]
  ) throws(WireError) -> FrameHead {
    var head = FrameHead(contentLength: -1, stringFields: 0, isJSON: false, encoding: nil)
    var present = 0
    var duplicate: Int?
    seen.reset()
    do throws(JSONParser.Failure) {
      try JSONParser.forEachMember(
        ofObject: header, maxDepth: limits.maxJSONDepth, keyScratch: &keys, valueScratch: &values
      ) { key, value, _ in
        if duplicate == nil, let earlier = seen.insert(key) { duplicate = earlier }
        func string(_ bit: UInt8, into out: inout [UInt8]) {
          guard case .string(let s) = value else { return }
          head.stringFields |= bit
          out.removeAll(keepingCapacity: true)
          out.append(contentsOf: s)
        }
        if key.equals(Header.Key.byteorder) {
          present |= 1
          string(1, into: &byteorder)
        } else if key.equals(Header.Key.contentType) {
          present |= 2
          string(2, into: &contentType)
          head.isJSON = value.isString(Message.jsonTypeLiteral)
        } else if key.equals(Header.Key.contentEncoding) {
          present |= 4
          string(4, into: &contentEncoding)
          if case .string(let s) = value { head.encoding = TextEncoding(name: s) }
        } else if key.equals(Header.Key.contentLength) {
          present |= 8
          if case .number(let literal, isInteger: true) = value {
            head.contentLength = JSONParser.integer(literal) ?? -1
          }
        }
        return true
      }
    } catch .invalidUTF8 {
      throw .framing(.badHeader, "the JSON header is not valid UTF-8")
    } catch .tooDeep {
      throw .framing(.badHeader, "the JSON header nests too deep")
    } catch .notAnObject {
      throw .framing(.badHeader, "the JSON header is not an object")
    } catch {
      throw .framing(.badHeader, "the JSON header is not valid JSON")
    }
    if let duplicate { throw .framing(.badHeader, "duplicate header \"\(seen.key(duplicate))\"") }
    for (i, key) in Header.requiredKeys.enumerated() where present & (1 << i) == 0 {
      throw .framing(.missingHeader, "missing required header \"\(key)\"")
    }
    guard head.contentLength >= 0 else {
      throw .framing(.badContentLength, "content-length must be a non-negative integer")
    }
    if let refusal = limits.refusal(contentLength: head.contentLength) { throw refusal }
    return head
  }
}

extension JSONParser.Member {
  fileprivate func isString(_ literal: StaticString) -> Bool {
    if case .string(let s) = self { return s.equals(literal) }
    return false
  }
}

/// The keys of one header, to find one given twice: an open-addressed hash set over
/// reused storage (a header may hold thousands of keys; comparing each with every other
/// would let one request stall a loop).
struct KeySet: Sendable {
  private var bytes: [UInt8] = []
  private var ends: [Int] = []
  /// Entry index + 1 in the low 32 bits, the generation above: a reset clears nothing.
  private var slots: [UInt64] = []
  private var generation: UInt64 = 1

  mutating func reset() {
    bytes.removeAll(keepingCapacity: true)
    ends.removeAll(keepingCapacity: true)
    generation &+= 1
  }

  func key(_ i: Int) -> String { String(decoding: bytes[start(i)..<ends[i]], as: UTF8.self) }

  /// Adds `key`; if it was there already, the index of the earlier one.
  mutating func insert(_ key: UnsafeRawBufferPointer) -> Int? {
    if (ends.count + 1) * 2 > slots.count { grow() }
    var at = slot(key)
    while slots[at] >> 32 == generation {
      let i = Int(slots[at] & 0xFFFF_FFFF) - 1
      if bytes.withUnsafeBytes({ key.equals(UnsafeRawBufferPointer(rebasing: $0[start(i)..<ends[i]])) }) { return i }
      at = (at + 1) & (slots.count - 1)
    }
    slots[at] = generation << 32 | UInt64(ends.count + 1)
    bytes.append(contentsOf: key)
    ends.append(bytes.count)
    return nil
  }

  private func start(_ i: Int) -> Int { i == 0 ? 0 : ends[i - 1] }

  /// Where `key`'s probe starts (FNV-1a).
  private func slot(_ key: UnsafeRawBufferPointer) -> Int {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in key { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
    return Int(truncatingIfNeeded: hash) & (slots.count - 1)
  }

  private mutating func grow() {
    slots = [UInt64](repeating: 0, count: max(16, slots.count * 2))
    for i in ends.indices {
      var at = bytes.withUnsafeBytes { slot(UnsafeRawBufferPointer(rebasing: $0[start(i)..<ends[i]])) }
      while slots[at] >> 32 == generation { at = (at + 1) & (slots.count - 1) }
      slots[at] = generation << 32 | UInt64(i + 1)
    }
  }
}
