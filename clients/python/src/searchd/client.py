"""The blocking client: `Client` over a thread-safe pool of kept-alive connections."""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, Callable, TypeVar

from . import _protocol as protocol
from ._endpoint import ClientBase, Endpoint
from ._exchange import ClosedBeforeReply
from .errors import ConnectionError, TimeoutError

T = TypeVar("T")


class Connection:
    """One connection to the server: requests written whole, replies read as they come."""

    def __init__(self, where: Endpoint) -> None:
        self.where = where
        self._reader = protocol.ReplyReader(where.max_reply_bytes)
        self._sock = self._connect()

    def _connect(self) -> socket.socket:
        where = self.where
        try:
            if where.unix_socket is not None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(where.connect_timeout)
                try:
                    sock.connect(where.unix_socket)
                except BaseException:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection((where.host, where.port), timeout=where.connect_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if where.ssl_context is not None:
                try:
                    sock = where.ssl_context.wrap_socket(sock, server_hostname=where.tls_name)
                except BaseException:
                    sock.close()
                    raise
        except socket.timeout:
            raise TimeoutError(f"no connection to {where} within {where.connect_timeout} s") from None
        except ssl.SSLError as e:
            raise ConnectionError(f"TLS with {where} failed: {e}") from None
        except OSError as e:
            raise ConnectionError(f"cannot connect to {where}: {e.strerror or e}") from None
        return sock

    def send(self, data: bytes) -> None:
        self._sock.settimeout(self.where.timeout)
        try:
            self._sock.sendall(data)
        except socket.timeout:
            raise TimeoutError(
                f"{self.where} did not take the request within {self.where.timeout} s"
            ) from None
        except (BrokenPipeError, ConnectionResetError):
            # The server closed first: whatever it answered before is still to be read.
            pass
        except OSError as e:
            raise ConnectionError(f"sending to {self.where} failed: {e.strerror or e}") from None

    def read_reply(self) -> protocol.Reply:
        """The next reply, whole within the timeout. `ClosedBeforeReply` if the server
        closed before sending a byte of it."""
        timeout = self.where.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            reply = self._reader.next()
            if reply is not None:
                return reply
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no whole reply from {self.where} within {timeout} s")
                self._sock.settimeout(left)
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                raise TimeoutError(f"no whole reply from {self.where} within {timeout} s") from None
            except ssl.SSLError as e:
                raise ConnectionError(f"TLS with {self.where} failed: {e}") from None
            except ConnectionResetError:
                data = b""
            except OSError as e:
                raise ConnectionError(f"reading from {self.where} failed: {e.strerror or e}") from None
            if not data:
                if self._reader.has_partial:
                    raise ConnectionError(f"{self.where} closed the connection in the middle of a reply")
                raise ClosedBeforeReply
            self._reader.feed(data)

    def is_reusable(self) -> bool:
        """Nothing has arrived unasked: not the end of the stream (the server closed it,
        idle or after its one reply), not stray bytes."""
        if self._sock.fileno() < 0 or self._reader.has_partial:
            return False
        if isinstance(self._sock, ssl.SSLSocket) and self._sock.pending():
            return False
        readable, _, _ = select.select([self._sock], [], [], 0)
        return not readable

    def close(self) -> None:
        self._sock.close()


class ConnectionPool:
    """Kept-alive connections to one endpoint, shared by threads: a request takes an idle
    one or opens a new one, up to `max_connections`, and gives it back when answered."""

    def __init__(self, where: Endpoint, max_connections: int = 10, wait_timeout: float | None = 5.0) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.where = where
        self.max_connections = max_connections
        self.wait_timeout = wait_timeout
        self._idle: list[Connection] = []
        self._open = 0
        self._free = threading.Condition()
        self._closed = False

    def acquire(self) -> Connection:
        with self._free:
            deadline = None if self.wait_timeout is None else time.monotonic() + self.wait_timeout
            while True:
                if self._closed:
                    raise ConnectionError("the client is closed")
                while self._idle:
                    conn = self._idle.pop()
                    if conn.is_reusable():
                        return conn
                    conn.close()
                    self._open -= 1
                if self._open < self.max_connections:
                    self._open += 1
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(
                        f"all {self.max_connections} connections busy for {self.wait_timeout} s"
                    )
                self._free.wait(left)
        try:
            return Connection(self.where)
        except BaseException:
            self.discard(None)
            raise

    def release(self, conn: Connection) -> None:
        with self._free:
            if self._closed:
                conn.close()
                self._open -= 1
            else:
                self._idle.append(conn)
            self._free.notify()

    def discard(self, conn: Connection | None) -> None:
        """A connection that failed, closed and not kept."""
        if conn is not None:
            conn.close()
        with self._free:
            self._open -= 1
            self._free.notify()

    def close(self) -> None:
        with self._free:
            self._closed = True
            for conn in self._idle:
                conn.close()
            self._open -= len(self._idle)
            self._idle.clear()
            self._free.notify_all()


class Client(ClientBase[ConnectionPool]):
    """A searchd client: thread-safe, its connections pooled and kept alive.

    >>> with Client("127.0.0.1", 65432) as client:
    ...     client.search("morpheus")
    'Follow the white rabbit. 🐰'
    """

    def _make_pool(self, where: Endpoint, max_connections: int, wait_timeout: float | None) -> ConnectionPool:
        return ConnectionPool(where, max_connections, wait_timeout)

    def search(self, key: str) -> str | None:
        """The value of `key`, or None if the index does not hold it."""
        return self._one(protocol.search_request(key), lambda r: protocol.search_result(r, key))

    def search_many(self, keys: Iterable[str]) -> list[str | None]:
        """The values of `keys` (None for each missing), asked together over one connection."""
        keys = list(keys)
        replies = self._exchange([protocol.search_request(k) for k in keys])
        return [protocol.search_result(r, k) for r, k in zip(replies, keys)]

    def suggest(self, text: str, limit: int | None = None, typos: int | None = None) -> protocol.Suggestions:
        """The keys `text` probably meant: those with a prefix within `typos` typos of it
        (the server's default by length when None), at most `limit` (10 when None), best
        first."""
        return self._one(protocol.suggest_request(text, limit, typos), protocol.suggest_result)

    def binary(self, data: bytes) -> bytes:
        """Sends `data` as binary content; the server's binary reply."""
        return self._one(protocol.binary_request(data), protocol.binary_result)

    def stats(self) -> dict[str, Any]:
        """The daemon's counters (a local peer, or a TLS client listed for admin, only)."""
        return self._one(protocol.STATS_REQUEST, protocol.stats_result)

    def ping(self) -> bool:
        """True when the server answers; an error saying why when it does not."""
        return self._one(protocol.PING_REQUEST, protocol.ping_result)

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _one(self, request: bytes, interpret: Callable[[protocol.Reply], T]) -> T:
        return interpret(self._exchange([request])[0])

    def _exchange(self, requests: Sequence[bytes]) -> list[protocol.Reply]:
        """Every request's reply, in order: pipelined over one connection, resumed on a new
        one from the first unanswered request when the server closes (the retry rule is
        `Pipeline`'s)."""
        run = self._pipeline.start(requests)
        while not run.done:
            conn = self.pool.acquire()
            try:
                conn.send(run.first_batch())
                while not run.done:
                    reply = conn.read_reply()
                    more = run.answered(reply)
                    if more is None:
                        break
                    if more:
                        conn.send(more)
            except ClosedBeforeReply:
                self.pool.discard(conn)
                run.closed()
                continue
            except BaseException:
                self.pool.discard(conn)
                raise
            if run.needs_new_connection:
                self.pool.discard(conn)
            else:
                self.pool.release(conn)
        return run.replies


__all__ = ["Client", "Connection", "ConnectionPool"]
