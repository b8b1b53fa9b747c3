"""The blocking client against searchd and the tutorial's own server, for real."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from typing import Callable

import pytest

import searchd
from searchd import _protocol as protocol

from .conftest import Peer, Server, read_request

MORPHEUS = "Follow the white rabbit. \U0001f430"
RING = "In the caves beneath the Misty Mountains. \U0001f48d"
DOG = "\U0001f43e Playing ball! \U0001f3d0"
MakePeer = Callable[[Callable[[socket.socket, int], None]], Peer]


def client(server: Server, **options: object) -> searchd.Client:
    return searchd.Client(server.host, server.port, **options)  # type: ignore[arg-type]


def test_search_hits_and_misses(server: Server) -> None:
    with client(server) as c:
        assert c.search("morpheus") == MORPHEUS
        assert c.search("ring") == RING
        assert c.search("\U0001f436") == DOG
        assert c.search("needle") is None
        assert c.search('a"b\\c\n\u00e9') is None


def test_search_many_answers_each_in_order(server: Server) -> None:
    keys = ["morpheus", "needle", "ring", "\U0001f436", "Morpheus"] * 40
    expected = [MORPHEUS, None, RING, DOG, None] * 40
    with client(server) as c:
        assert c.search_many(keys) == expected
        assert c.search_many([]) == []


def test_search_many_goes_over_one_connection_to_searchd(daemon: Server) -> None:
    with client(daemon) as c:
        before = c.stats()["connections"]["total"]
        assert len(c.search_many(["morpheus"] * 500)) == 500
        # The stats request itself reuses the pooled connection: nothing new was opened.
        assert c.stats()["connections"]["total"] == before


def test_binary_echoes_the_first_ten_bytes(server: Server) -> None:
    with client(server) as c:
        assert c.binary(b"binary\xf0\x9f\x98\x83") == b"First 10 bytes of request: binary\xf0\x9f\x98\x83"
        assert c.binary(b"0123456789abcdef") == b"First 10 bytes of request: 0123456789"


def test_ping(server: Server) -> None:
    with client(server) as c:
        assert c.ping() is True


def test_stats_from_searchd(daemon: Server) -> None:
    with client(daemon) as c:
        c.search("morpheus")
        stats = c.stats()
        assert sum(stats["requests"].values()) > 0
        assert stats["version"]


def test_stats_from_the_tutorials_server_is_an_invalid_action(tutorial: Server) -> None:
    with client(tutorial) as c, pytest.raises(searchd.InvalidAction) as raised:
        c.stats()
    assert raised.value.message == 'Error: invalid action "stats".'


def test_suggest_forgives_a_typo(daemon: Server) -> None:
    with client(daemon) as c:
        found = c.suggest("morphues")
        assert found == searchd.Suggestions(
            [searchd.Suggestion("morpheus", "Follow the white rabbit. \U0001f430", 1)], True
        )
        assert c.suggest("Mor").items == []
        assert [s.key for s in c.suggest("", limit=2).items] == ["\U0001f436", "ring"]
        with pytest.raises(searchd.BadLimit) as limit:
            c.suggest("ring", limit=0)
        assert limit.value.message.startswith("Error: ")
        with pytest.raises(searchd.BadTypos):
            c.suggest("ring", typos=3)


def test_suggest_from_the_tutorials_server_is_an_invalid_action(tutorial: Server) -> None:
    with client(tutorial) as c, pytest.raises(searchd.InvalidAction) as raised:
        c.suggest("morph")
    assert raised.value.message == 'Error: invalid action "suggest".'


def test_an_error_reply_is_typed_with_the_servers_words(daemon: Server) -> None:
    with client(daemon) as c:
        with pytest.raises(searchd.BadRequest) as raised:
            protocol.search_result(c._exchange([protocol.json_request({"value": "x"})])[0], "x")
        assert raised.value.code == "bad-request"
        assert raised.value.message.startswith("Error: ")
        with pytest.raises(searchd.BadJSON):
            c._exchange([protocol.frame(b"{", "text/json", "utf-8")])[0].json()
        with pytest.raises(searchd.UnsupportedEncoding):
            c._exchange([protocol.frame(b"{}", "text/json", "klingon")])[0].json()
        # The connection goes on after each of them.
        assert c.search("ring") == RING


def test_unix_socket(daemon: Server) -> None:
    assert daemon.unix_socket is not None
    with searchd_client_unix(daemon.unix_socket) as c:
        assert c.search("morpheus") == MORPHEUS
        assert c.search_many(["ring", "needle"]) == [RING, None]


def searchd_client_unix(path: str) -> searchd.Client:
    return searchd.Client(unix_socket=path)


def test_tls_with_a_ca_file_and_a_client_certificate(daemon: Server) -> None:
    assert daemon.certificates is not None and daemon.tls_port is not None
    folder = daemon.certificates
    with searchd.Client(
        "127.0.0.1",
        daemon.tls_port,
        ssl_ca_file=str(folder / "ca.pem"),
        ssl_certfile=str(folder / "alice.pem"),
        ssl_keyfile=str(folder / "alice.key"),
    ) as c:
        assert c.search("morpheus") == MORPHEUS
        assert c.search_many(["ring"] * 100) == [RING] * 100


def test_tls_checks_the_servers_name(daemon: Server) -> None:
    assert daemon.certificates is not None and daemon.tls_port is not None
    c = searchd.Client(
        "127.0.0.1",
        daemon.tls_port,
        ssl_ca_file=str(daemon.certificates / "ca.pem"),
        server_hostname="example.org",
    )
    with c, pytest.raises(searchd.ConnectionError) as raised:
        c.search("morpheus")
    assert "certificate" in str(raised.value)


def test_tls_with_a_context_of_ones_own(daemon: Server) -> None:
    assert daemon.certificates is not None and daemon.tls_port is not None
    context = ssl.create_default_context(cafile=str(daemon.certificates / "ca.pem"))
    with searchd.Client("localhost", daemon.tls_port, ssl=context) as c:
        assert c.ping()


def test_a_refused_connection() -> None:
    unused = socket.socket()
    unused.bind(("127.0.0.1", 0))
    port = unused.getsockname()[1]
    unused.close()
    with searchd.Client("127.0.0.1", port) as c, pytest.raises(searchd.ConnectionError) as raised:
        c.search("x")
    assert f"127.0.0.1:{port}" in str(raised.value)


def test_a_silent_server_times_out_within_the_timeout(peer: MakePeer) -> None:
    silent = peer(lambda conn, n: time.sleep(30))
    with searchd.Client("127.0.0.1", silent.port, timeout=0.5) as c:
        started = time.monotonic()
        with pytest.raises(searchd.TimeoutError):
            c.search("x")
        assert time.monotonic() - started < 0.5 + 2.0


def raw(header: bytes, content: bytes) -> bytes:
    """A reply with this header, whatever it says."""
    return len(header).to_bytes(2, "big") + header + content


def replying(reply: bytes) -> Callable[[socket.socket, int], None]:
    def behave(conn: socket.socket, n: int) -> None:
        read_request(conn)
        conn.sendall(reply)
        conn.shutdown(socket.SHUT_WR)

    return behave


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", searchd.ProtocolError),
        (b"\x00\x00", searchd.ProtocolError),
        (b"\x00\x05hello", searchd.ProtocolError),
        (b"\x00\x02[]", searchd.ProtocolError),
        (raw(b'{"content-length": 1}', b"x"), searchd.ProtocolError),
        (
            raw(
                b'{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", '
                b'"content-length": "2"}',
                b"{}",
            ),
            searchd.ProtocolError,
        ),
        (
            raw(
                b'{"byteorder": "little", "content-type": 7, "content-encoding": "utf-8", '
                b'"content-length": 2}',
                b"{}",
            ),
            searchd.ProtocolError,
        ),
        (b"\xff\xff" + b" " * 65535, searchd.ProtocolError),
        (protocol.frame(b"not json", "text/json", "utf-8"), searchd.ProtocolError),
        (protocol.frame(b'{"result": 1}', "text/json", "utf-8"), searchd.ProtocolError),
        (protocol.frame(b'{"result": "Follow', "text/json", "utf-8")[:-3], searchd.ConnectionError),
    ],
)
def test_a_peer_that_is_not_searchd_gets_a_typed_error(
    peer: MakePeer, reply: bytes, error: type[searchd.SearchdError]
) -> None:
    bad = peer(replying(reply))
    with searchd.Client("127.0.0.1", bad.port, timeout=2) as c, pytest.raises(error):
        c.search("morpheus")


def test_a_reply_over_the_clients_limit_is_refused_unread(peer: MakePeer) -> None:
    header = protocol.frame(b"", "text/json", "utf-8")[2:].replace(b'": 0}', b'": 1073741824}')
    huge = peer(replying(raw(header, b"")))
    with (
        searchd.Client("127.0.0.1", huge.port, timeout=2) as c,
        pytest.raises(searchd.ProtocolError) as raised,
    ):
        c.search("morpheus")
    assert "1073741824" in str(raised.value)


def test_a_connection_closed_before_any_reply_is_retried_once(peer: MakePeer) -> None:
    def flaky(conn: socket.socket, n: int) -> None:
        read_request(conn)
        if n == 1:
            conn.close()
            return
        conn.sendall(protocol.frame(json.dumps({"result": MORPHEUS}).encode(), "text/json", "utf-8"))

    p = peer(flaky)
    with searchd.Client("127.0.0.1", p.port) as c:
        assert c.search("morpheus") == MORPHEUS
    assert p.connections == 2


def test_a_second_close_before_any_reply_is_an_error(peer: MakePeer) -> None:
    def rude(conn: socket.socket, n: int) -> None:
        read_request(conn)
        conn.close()

    p = peer(rude)
    with searchd.Client("127.0.0.1", p.port) as c, pytest.raises(searchd.ConnectionError):
        c.search("morpheus")
    assert p.connections == 2


def test_the_pool_is_shared_by_threads_within_its_bound(daemon: Server) -> None:
    c = client(daemon, max_connections=3)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(100):
                assert c.search("morpheus") == MORPHEUS
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    c.close()
    assert not failures
    assert c.pool._open <= 3


def test_a_closed_client_refuses_requests(daemon: Server) -> None:
    c = client(daemon)
    c.close()
    with pytest.raises(searchd.ConnectionError):
        c.search("morpheus")
