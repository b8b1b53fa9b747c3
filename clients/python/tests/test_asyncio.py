"""The asyncio client against searchd and the tutorial's own server, for real."""

from __future__ import annotations

import asyncio
import time

import pytest

import searchd

from .conftest import Server
from .test_client import DOG, MORPHEUS, RING, MakePeer, replying


def run(server: Server, body: object, **options: object) -> None:
    async def main() -> None:
        async with searchd.AsyncClient(server.host, server.port, **options) as c:  # type: ignore[arg-type]
            await body(c)  # type: ignore[operator]

    asyncio.run(main())


def test_every_call(server: Server) -> None:
    async def body(c: searchd.AsyncClient) -> None:
        assert await c.search("morpheus") == MORPHEUS
        assert await c.search("needle") is None
        assert await c.search_many(["ring", "\U0001f436", "x"] * 50) == [RING, DOG, None] * 50
        assert await c.binary(b"0123456789abc") == b"First 10 bytes of request: 0123456789"
        assert await c.ping() is True

    run(server, body)


def test_stats(daemon: Server) -> None:
    async def body(c: searchd.AsyncClient) -> None:
        stats = await c.stats()
        assert stats["connections"]["total"] >= 1

    run(daemon, body)


def test_suggest(daemon: Server) -> None:
    async def body(c: searchd.AsyncClient) -> None:
        found = await c.suggest("morphues", limit=5, typos=1)
        assert found.items == [searchd.Suggestion("morpheus", MORPHEUS, 1)]
        assert found.complete
        with pytest.raises(searchd.BadTypos):
            await c.suggest("ring", typos=-1)

    run(daemon, body)


def test_concurrent_tasks_share_the_pool_within_its_bound(daemon: Server) -> None:
    async def body(c: searchd.AsyncClient) -> None:
        answers = await asyncio.gather(*(c.search("morpheus") for _ in range(200)))
        assert answers == [MORPHEUS] * 200
        assert len(c.pool._idle) <= 4

    run(daemon, body, max_connections=4)


def test_unix_socket(daemon: Server) -> None:
    async def main() -> None:
        async with searchd.AsyncClient(unix_socket=daemon.unix_socket) as c:
            assert await c.search("ring") == RING

    asyncio.run(main())


def test_tls(daemon: Server) -> None:
    assert daemon.certificates is not None and daemon.tls_port is not None
    folder, port = daemon.certificates, daemon.tls_port

    async def main() -> None:
        async with searchd.AsyncClient(
            "127.0.0.1",
            port,
            ssl_ca_file=str(folder / "ca.pem"),
            ssl_certfile=str(folder / "alice.pem"),
            ssl_keyfile=str(folder / "alice.key"),
        ) as c:
            assert await c.search_many(["morpheus"] * 20) == [MORPHEUS] * 20

    asyncio.run(main())


def test_a_silent_server_times_out_within_the_timeout(peer: MakePeer) -> None:
    silent = peer(lambda conn, n: time.sleep(30))

    async def main() -> None:
        async with searchd.AsyncClient("127.0.0.1", silent.port, timeout=0.5) as c:
            started = time.monotonic()
            with pytest.raises(searchd.TimeoutError):
                await c.search("x")
            assert time.monotonic() - started < 0.5 + 2.0

    asyncio.run(main())


def test_a_peer_that_is_not_searchd_gets_a_protocol_error(peer: MakePeer) -> None:
    bad = peer(replying(b"HTTP/1.1 400 Bad Request\r\n\r\n"))

    async def main() -> None:
        async with searchd.AsyncClient("127.0.0.1", bad.port, timeout=2) as c:
            with pytest.raises(searchd.ProtocolError):
                await c.search("morpheus")

    asyncio.run(main())
