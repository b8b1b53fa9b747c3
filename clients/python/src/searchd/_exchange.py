"""How a batch of requests is sent and answered, without I/O: pipelined up to a depth,
resumed on a new connection from the first unanswered request when the server closes,
and the retry rule `searchctl` uses. Every request here is a read (search, binary, stats),
so sending one again is safe; a connection that closes before any reply byte is tried
once more on a new connection, and a second such close is an error."""

from __future__ import annotations

from collections.abc import Sequence

from . import _protocol as protocol
from .errors import ConnectionError

# Requests written before the first reply is read, at most: enough to keep a connection
# busy, little enough that the server's replies never wait on a client still writing.
MAX_BATCH_BYTES = 64 << 10


class ClosedBeforeReply(Exception):
    """The server closed the connection before a byte of the next reply (internal)."""


class Pipeline:
    """What a client has learned of its server's connections, and the depth it pipelines to."""

    def __init__(self, depth: int) -> None:
        if depth < 1:
            raise ValueError("pipeline_depth must be at least 1")
        self.depth = depth
        # The server answers one request per connection, then closes (the tutorial's does).
        self.one_per_connection = False

    def start(self, requests: Sequence[bytes]) -> Run:
        return Run(self, requests)


class Run:
    """One batch of requests on its way through one or more connections."""

    def __init__(self, pipeline: Pipeline, requests: Sequence[bytes]) -> None:
        self._pipeline = pipeline
        self._requests = requests
        self.replies: list[protocol.Reply] = []
        self._sent = 0
        self._answered_here = 0
        self._barren = 0

    @property
    def done(self) -> bool:
        return len(self.replies) == len(self._requests)

    @property
    def needs_new_connection(self) -> bool:
        """The connection this run used will not serve another request."""
        return self._pipeline.one_per_connection

    def first_batch(self) -> bytes:
        """What to write on a new connection: the first unanswered requests, up to the depth."""
        start = len(self.replies)
        depth = 1 if self._pipeline.one_per_connection else self._pipeline.depth
        end, size = start, 0
        while end < len(self._requests) and end - start < depth:
            size += len(self._requests[end])
            if end > start and size > MAX_BATCH_BYTES:
                break
            end += 1
        self._sent = end
        self._answered_here = 0
        return b"".join(self._requests[start:end])

    def answered(self, reply: protocol.Reply) -> bytes | None:
        """Takes a reply; what to write next on this connection (b"" for nothing), or None
        when the rest must go on a new connection."""
        self.replies.append(reply)
        self._answered_here += 1
        self._barren = 0
        if self.done:
            return b""
        if self._pipeline.one_per_connection:
            return None
        if self._sent < len(self._requests) and self._sent - len(self.replies) < self._pipeline.depth:
            self._sent += 1
            return self._requests[self._sent - 1]
        return b""

    def closed(self) -> None:
        """The server closed before a byte of the next reply: the rest is resent on a new
        connection, unless this is the second connection in a row that answered nothing."""
        if self._answered_here == 1 and self._sent > len(self.replies):
            # One answer, then a close with more asked: a server of one request per connection.
            self._pipeline.one_per_connection = True
        if self._answered_here > 0:
            return
        self._barren += 1
        if self._barren > 1:
            raise ConnectionError("the server closed the connection before replying, twice")
