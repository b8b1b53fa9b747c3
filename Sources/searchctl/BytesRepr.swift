/// Python's `repr()` of a bytes object, so `-v` shows traffic exactly as the
/// tutorial's clients print it (`b'\x00g{"byteorder": ...'`).
func pythonBytesRepr(_ bytes: some Sequence<UInt8>) -> String {
  let array = Array(bytes)
  // Python quotes with " when the bytes hold ' but no ".
  let quote: UInt8 = array.contains(0x27) && !array.contains(0x22) ? 0x22 : 0x27
  var out = "b" + String(UnicodeScalar(quote))
  let hex = Array("0123456789abcdef")
  for b in array {
    switch b {
    case 0x5C: out += "\\\\"
    case quote: out += "\\" + String(UnicodeScalar(quote))
    case 0x09: out += "\\t"
    case 0x0A: out += "\\n"
    case 0x0D: out += "\\r"
    case 0x20..<0x7F: out.append(Character(UnicodeScalar(b)))
    default: out += "\\x" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 0xF)])
    }
  }
  return out + String(UnicodeScalar(quote))
}
