import SearchdSystem
import SearchdWire

/// Compiles a JSON index (an object of string keys to string values, the format `--index`
/// has always taken) into an image, member by member as the parser meets them: no
/// document tree, no String per key or value, each value encoded once into its reply.
public enum JSONIndexCompiler {
  /// Compiled in memory. `progress` hears the offset read up to every few megabytes, so a
  /// mapped file's read pages can be given back as the parse moves on.
  public static func compile(
    _ json: UnsafeRawBufferPointer, path: String, progress: (Int) -> Void = { _ in }
  ) throws(IndexLoadError) -> IndexImage {
    var builder = IndexBuilder()
    try compile(json, path: path, into: &builder, progress: progress)
    progress(json.count)  // all of it read: its pages go before the image's peak, the seal
    return builder.finish()
  }

  /// Adds the members of `json` to `builder`.
  public static func compile(
    _ json: UnsafeRawBufferPointer, path: String, into builder: inout IndexBuilder, progress: (Int) -> Void = { _ in }
  ) throws(IndexLoadError) {
    var notString: String?
    var writeError: SystemError?
    var reported = 0
    var estimated = false
    var (keyScratch, valueScratch): ([UInt8], [UInt8]) = ([], [])
    do throws(JSONParser.Failure) {
      try JSONParser.forEachMember(
        ofObject: json, maxDepth: WireLimits.default.maxJSONDepth, keyScratch: &keyScratch, valueScratch: &valueScratch
      ) { key, member, offset in
        guard case .string(let value) = member else {
          notString = String(decoding: key, as: UTF8.self)
          return false
        }
        do throws(SystemError) {
          try builder.add(key: key, value: value)
        } catch {
          writeError = error
          return false
        }
        if !estimated && offset >= 1 << 20 {
          // The first megabyte's members, scaled to the file: the table's size at once.
          builder.expect(Int(Double(builder.count) * Double(json.count) / Double(offset)))
          estimated = true
        }
        if offset - reported >= 1 << 22 {
          progress(offset)
          reported = offset
        }
        return true
      }
    } catch .syntax(offset: 0) where json.count > 0 {
      throw IndexLoadError(path: path, problem: "neither a compiled index (no magic number) nor JSON")
    } catch .notAnObject {
      throw IndexLoadError(path: path, problem: "the top level must be a JSON object of string keys to string values")
    } catch {
      throw IndexLoadError(path: path, problem: "not valid JSON (\(error))")
    }
    if let writeError { throw IndexLoadError(path: path, problem: "cannot write the compiled index (\(writeError))") }
    if let notString { throw IndexLoadError(path: path, problem: "the value of \"\(notString)\" is not a string") }
  }
}
