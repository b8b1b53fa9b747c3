/// Why an index file was refused, naming the file.
public struct IndexLoadError: Error, CustomStringConvertible, Sendable {
  public let path: String
  public let problem: String
  /// The setting names something that can never be an index (a FIFO, a directory): a
  /// configuration error, not a bad file.
  public let isNotAFile: Bool

  public init(path: String, problem: String, isNotAFile: Bool = false) {
    self.path = path
    self.problem = problem
    self.isNotAFile = isNotAFile
  }

  public var description: String { "cannot load index \(path): \(problem)" }
}
