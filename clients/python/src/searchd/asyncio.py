"""The asyncio client: `AsyncClient`, the same calls as `Client`, awaited."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, Callable, TypeVar

from . import _protocol as protocol
from ._endpoint import ClientBase, Endpoint
from ._exchange import ClosedBeforeReply
from .errors import ConnectionError, TimeoutError

T = TypeVar("T")


async def _within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """`awaitable`'s result, or asyncio.TimeoutError after `seconds`. Python 3.11's
    `asyncio.timeout` runs it in this task; `wait_for` before it makes a task per call."""
    if seconds is None:
        return await awaitable
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)


class AsyncConnection:
    """One connection to the server over asyncio's streams."""

    def __init__(self, where: Endpoint, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.where = where
        self._reader = reader
        self._writer = writer
        self._replies = protocol.ReplyReader(where.max_reply_bytes)

    @classmethod
    async def connect(cls, where: Endpoint) -> AsyncConnection:
        try:
            if where.unix_socket is not None:
                opened = asyncio.open_unix_connection(
                    where.unix_socket, ssl=where.ssl_context, server_hostname=where.tls_name
                )
            else:
                opened = asyncio.open_connection(
                    where.host, where.port, ssl=where.ssl_context, server_hostname=where.tls_name
                )
            reader, writer = await asyncio.wait_for(opened, where.connect_timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no connection to {where} within {where.connect_timeout} s") from None
        except ssl.SSLError as e:
            raise ConnectionError(f"TLS with {where} failed: {e}") from None
        except OSError as e:
            raise ConnectionError(f"cannot connect to {where}: {e.strerror or e}") from None
        return cls(where, reader, writer)

    def send(self, data: bytes) -> None:
        # Written into the transport's buffer: pipelined requests go out as the loop can.
        if not self._writer.is_closing():
            self._writer.write(data)

    async def read_reply(self) -> protocol.Reply:
        """The next reply, whole within the timeout; `ClosedBeforeReply` if the server
        closed before a byte of it."""
        try:
            return await _within(self._read(), self.where.timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no whole reply from {self.where} within {self.where.timeout} s") from None

    async def _read(self) -> protocol.Reply:
        while True:
            reply = self._replies.next()
            if reply is not None:
                return reply
            try:
                data = await self._reader.read(65536)
            except ssl.SSLError as e:
                raise ConnectionError(f"TLS with {self.where} failed: {e}") from None
            except ConnectionResetError:
                data = b""
            except OSError as e:
                raise ConnectionError(f"reading from {self.where} failed: {e.strerror or e}") from None
            if not data:
                if self._replies.has_partial:
                    raise ConnectionError(f"{self.where} closed the connection in the middle of a reply")
                raise ClosedBeforeReply
            self._replies.feed(data)

    def is_reusable(self) -> bool:
        return not (self._writer.is_closing() or self._reader.at_eof() or self._replies.has_partial)

    def close(self) -> None:
        self._writer.close()

    async def wait_closed(self) -> None:
        """Until the transport has let go of its socket (a closed peer's error is no news)."""
        with contextlib.suppress(OSError, ssl.SSLError):
            await self._writer.wait_closed()


class AsyncConnectionPool:
    """Kept-alive connections for one event loop, up to `max_connections`."""

    def __init__(self, where: Endpoint, max_connections: int = 10, wait_timeout: float | None = 5.0) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.where = where
        self.max_connections = max_connections
        self.wait_timeout = wait_timeout
        self._idle: list[AsyncConnection] = []
        # Closed, and not yet known to have let go of their sockets.
        self._closing: list[AsyncConnection] = []
        self._slots: asyncio.Semaphore | None = None
        self._closed = False

    async def acquire(self) -> AsyncConnection:
        if self._closed:
            raise ConnectionError("the client is closed")
        if self._slots is None:
            # Made here, in the loop that uses it (Python 3.9 binds it at creation).
            self._slots = asyncio.Semaphore(self.max_connections)
        try:
            # A free slot is taken at once; only a wait needs the timeout's machinery.
            if self._slots.locked():
                await _within(self._slots.acquire(), self.wait_timeout)
            else:
                await self._slots.acquire()
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"all {self.max_connections} connections busy for {self.wait_timeout} s"
            ) from None
        while self._idle:
            conn = self._idle.pop()
            if conn.is_reusable():
                return conn
            self._close(conn)
        try:
            return await AsyncConnection.connect(self.where)
        except BaseException:
            self._slots.release()
            raise

    def release(self, conn: AsyncConnection) -> None:
        if self._closed:
            self._close(conn)
        else:
            self._idle.append(conn)
        if self._slots is not None:
            self._slots.release()

    def discard(self, conn: AsyncConnection) -> None:
        self._close(conn)
        if self._slots is not None:
            self._slots.release()

    def _close(self, conn: AsyncConnection) -> None:
        conn.close()
        # Kept for `close` to wait on; the oldest have long let go (a transport closes
        # within a turn or two of its loop), so the list stays short on a long-lived client.
        if len(self._closing) >= 64:
            del self._closing[:32]
        self._closing.append(conn)

    async def close(self) -> None:
        """Closes every idle connection and waits until all closed ones have let go."""
        self._closed = True
        for conn in self._idle:
            self._close(conn)
        self._idle.clear()
        closing, self._closing = self._closing, []
        await asyncio.gather(*(conn.wait_closed() for conn in closing))


class AsyncClient(ClientBase[AsyncConnectionPool]):
    """A searchd client for asyncio: pooled, kept alive, pipelined.

    >>> async with AsyncClient("127.0.0.1", 65432) as client:
    ...     await client.search("morpheus")
    'Follow the white rabbit. 🐰'
    """

    def _make_pool(
        self, where: Endpoint, max_connections: int, wait_timeout: float | None
    ) -> AsyncConnectionPool:
        return AsyncConnectionPool(where, max_connections, wait_timeout)

    async def search(self, key: str) -> str | None:
        """The value of `key`, or None if the index does not hold it."""
        return await self._one(protocol.search_request(key), lambda r: protocol.search_result(r, key))

    async def search_many(self, keys: Iterable[str]) -> list[str | None]:
        """The values of `keys` (None for each missing), asked together over one connection."""
        keys = list(keys)
        replies = await self._exchange([protocol.search_request(k) for k in keys])
        return [protocol.search_result(r, k) for r, k in zip(replies, keys)]

    async def suggest(
        self, text: str, limit: int | None = None, typos: int | None = None
    ) -> protocol.Suggestions:
        """The keys `text` probably meant: those with a prefix within `typos` typos of it
        (the server's default by length when None), at most `limit` (10 when None), best
        first."""
        return await self._one(protocol.suggest_request(text, limit, typos), protocol.suggest_result)

    async def binary(self, data: bytes) -> bytes:
        """Sends `data` as binary content; the server's binary reply."""
        return await self._one(protocol.binary_request(data), protocol.binary_result)

    async def stats(self) -> dict[str, Any]:
        """The daemon's counters (a local peer, or a TLS client listed for admin, only)."""
        return await self._one(protocol.STATS_REQUEST, protocol.stats_result)

    async def ping(self) -> bool:
        """True when the server answers; an error saying why when it does not."""
        return await self._one(protocol.PING_REQUEST, protocol.ping_result)

    async def close(self) -> None:
        await self.pool.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _one(self, request: bytes, interpret: Callable[[protocol.Reply], T]) -> T:
        return interpret((await self._exchange([request]))[0])

    async def _exchange(self, requests: Sequence[bytes]) -> list[protocol.Reply]:
        """As `Client._exchange`, awaited."""
        run = self._pipeline.start(requests)
        while not run.done:
            conn = await self.pool.acquire()
            try:
                conn.send(run.first_batch())
                while not run.done:
                    more = run.answered(await conn.read_reply())
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
