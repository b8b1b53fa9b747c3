"""Where a client connects and how: TCP or a Unix socket, TLS, timeouts, and the options
both clients take, spelled once."""

from __future__ import annotations

from dataclasses import dataclass
from ssl import SSLContext, create_default_context
from typing import Generic, TypeVar

from ._exchange import Pipeline
from ._protocol import DEFAULT_MAX_REPLY_BYTES

DEFAULT_PORT = 65432


@dataclass(frozen=True)
class Endpoint:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    unix_socket: str | None = None
    ssl_context: SSLContext | None = None
    # The name the server's certificate must carry (and SNI); the host by default.
    server_hostname: str | None = None
    connect_timeout: float | None = 5.0
    # Each reply must be whole within this many seconds of the last one (or of the request).
    timeout: float | None = 5.0
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES

    @property
    def tls_name(self) -> str | None:
        if self.ssl_context is None:
            return None
        return self.server_hostname or self.host

    def __str__(self) -> str:
        where = self.unix_socket or f"{self.host}:{self.port}"
        return f"searchd at {where}" + (" (TLS)" if self.ssl_context else "")


def tls_context(
    ca_file: str | None = None, certfile: str | None = None, keyfile: str | None = None
) -> SSLContext:
    """A client's TLS context: the server checked against `ca_file` (or the system's CAs),
    and a client certificate (with its key, if in a file of its own) when given."""
    context = create_default_context(cafile=ca_file)
    if certfile is not None:
        context.load_cert_chain(certfile, keyfile)
    return context


PoolT = TypeVar("PoolT")


class ClientBase(Generic[PoolT]):
    """What both clients are made of: where they connect and how, their pool and the
    depth they pipeline to. Options: `timeout` (seconds for each reply; None waits),
    `connect_timeout`, TLS by `ssl=True` or a CA file or client certificate (or a context
    of your own as `ssl`), `max_connections` (the pool's bound; a request waits up to
    `timeout` for a free one), `pipeline_depth`, `max_reply_bytes`."""

    pool: PoolT

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        unix_socket: str | None = None,
        timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        ssl: bool | SSLContext = False,
        ssl_ca_file: str | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        server_hostname: str | None = None,
        max_connections: int = 10,
        pipeline_depth: int = 64,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        context: SSLContext | None = None
        if isinstance(ssl, SSLContext):
            context = ssl
        elif ssl or ssl_ca_file or ssl_certfile:
            context = tls_context(ssl_ca_file, ssl_certfile, ssl_keyfile)
        where = Endpoint(
            host=host,
            port=port,
            unix_socket=unix_socket,
            ssl_context=context,
            server_hostname=server_hostname,
            connect_timeout=connect_timeout,
            timeout=timeout,
            max_reply_bytes=max_reply_bytes,
        )
        self.pool = self._make_pool(where, max_connections, timeout)
        self._pipeline = Pipeline(pipeline_depth)

    def _make_pool(self, where: Endpoint, max_connections: int, wait_timeout: float | None) -> PoolT:
        raise NotImplementedError
