import SearchdClient

/// Exit statuses: documented in `searchctl --help`, relied on by scripts.
enum ExitStatus: Int32 {
  case found = 0
  case noMatch = 1
  case unavailable = 2
  case errorReply = 3
  case usage = 64

  /// An error reply is the server saying no (3); anything else is not reaching it (2).
  init(_ error: ClientError) {
    self = error.isErrorReply ? .errorReply : .unavailable
  }
}
