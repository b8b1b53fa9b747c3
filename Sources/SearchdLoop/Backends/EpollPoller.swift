import SearchdSystem

/// The epoll backend: level-triggered, one epoll set per loop.
final class EpollPoller: Poller {
  private let epoll: Epoll
  private let events: EpollEventBuffer
  private let translation = Interest.Translation()

  init(maxEvents: Int) throws(SystemError) {
    epoll = try Epoll()
    events = EpollEventBuffer(capacity: maxEvents)
  }

  func start() throws(SystemError) {}

  func add(_ fd: Int32, interest: Interest, exclusive: Bool, token: UInt64) throws(SystemError) {
    try epoll.add(fd, events: interest.epollEvents(exclusive: exclusive), token: token)
  }

  func modify(_ fd: Int32, interest: Interest, token: UInt64) throws(SystemError) {
    try epoll.modify(fd, events: interest.epollEvents(exclusive: false), token: token)
  }

  func remove(_ fd: Int32, token: UInt64, closing: Bool) {
    // close(2) takes an fd whose only reference it drops out of the epoll set: no call.
    if closing { return }
    // EPOLL_CTL_DEL cannot fail for an fd we added and have not closed; if it did, closing the fd removes it anyway.
    try? epoll.remove(fd)
  }

  func wait(timeoutMs: Int32, into ready: ReadyList) throws(SystemError) {
    ready.clear()
    let n = try epoll.wait(into: events, timeoutMs: timeoutMs)
    for i in 0..<min(n, ready.capacity) {
      let (token, bits) = events[i]
      ready.append(token, translation.interest(bits))
    }
  }
}
