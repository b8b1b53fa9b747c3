import SearchdIndex
import SearchdWire

/// One fuzz input: an index file as searchd would map it. The first byte picks whether
/// the harness first repairs the two checksums (odd), so the fuzzer gets past them to the
/// fields a checksum would otherwise guard (a bad file that still sums, as a buggy or
/// hostile writer could make); the rest is the file. Whatever the bytes, loading is a
/// typed refusal or a table whose every lookup and walk stays inside the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  var file = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  if data[0] & 1 == 1 { repairChecksums(&file) }
  let table: LookupTable
  do {
    table = try file.withUnsafeBytes {
      try LookupTable(image: IndexImage(copying: $0), source: "fuzz", format: .compiled, verifyChecksum: true)
    }
  } catch {
    return 0
  }
  let bytes = table.image.bytes
  func inside(_ b: UnsafeRawBufferPointer) -> Bool {
    b.count == 0
      || (b.baseAddress! >= bytes.baseAddress! && b.baseAddress! + b.count <= bytes.baseAddress! + bytes.count)
  }
  var entries = 0
  table.forEachEntry { key, text in
    precondition(inside(key) && inside(text), "an entry outside the file")
    entries += 1
    if let found = table.text(forQuery: key) { precondition(inside(found), "a lookup outside the file") }
  }
  precondition(entries <= table.bucketCount)
  for probe in ["", "morpheus", "doc:1", String(decoding: file.prefix(8), as: UTF8.self)] {
    if let found = Array(probe.utf8).withUnsafeBytes({ table.text(forQuery: $0) }) {
      precondition(inside(found), "a lookup outside the file")
    }
  }
  // Suggestions over a section whose offsets, order and lengths may all lie: each stays
  // inside the file and within its limit, and stops.
  var suggester = Suggester(visitLimit: 2_000)
  for (text, typos) in [("", 0), ("mo", 2), ("morpheus", 2), (String(decoding: file.prefix(4), as: UTF8.self), 1)] {
    _ = Array(text.utf8).withUnsafeBytes { suggester.suggest($0, in: table, limit: 100, typos: typos) }
    precondition(suggester.suggestions.count <= 100, "more suggestions than the limit")
    for s in suggester.suggestions {
      let entry = table.suggestion(at: s.position)
      precondition(inside(entry.key) && inside(entry.text), "a suggestion outside the file")
    }
  }
  return 0
}

/// Rewrites the body and header checksums to match the bytes (where the header has room).
func repairChecksums(_ file: inout [UInt8]) {
  guard file.count >= IndexFormat.headerSize else { return }
  file.withUnsafeMutableBytes { raw in
    let body = UnsafeRawBufferPointer(rebasing: raw[IndexFormat.headerSize...])
    raw.storeBytes(of: IndexFormat.checksum(body).littleEndian, toByteOffset: 48, as: UInt64.self)
    let head = UnsafeRawBufferPointer(rebasing: raw[0..<56])
    raw.storeBytes(of: IndexFormat.checksum(head).littleEndian, toByteOffset: 56, as: UInt64.self)
  }
}
