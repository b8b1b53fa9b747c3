/// Why an index file was refused, naming the file.
public struct IndexLoadError: Error, CustomStringConvertible, Sendable {
  public let path: String
  public let problem: String

  public init(path: String, problem: String) {
    self.path = path
    self.problem = problem
  }

  public var description: String { "cannot load index \(path): \(problem)" }
}
