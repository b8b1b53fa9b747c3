"""The servers the client is tested against, for real: searchd (plain, Unix socket and TLS
listeners, certificates made by openssl), the tutorial's own server, and small hostile
peers written here."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable

import pytest

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[2]
TUTORIAL_SERVER = REPOSITORY / "Tests" / "IntegrationTests" / "Python" / "tutorial_server.py"
START_TIMEOUT = 30.0


def searchd_binary() -> Path:
    """$SEARCHD_BIN, or the debug build's."""
    path = Path(os.environ.get("SEARCHD_BIN", REPOSITORY / ".build" / "debug" / "searchd"))
    if not path.exists():
        pytest.fail(f"no searchd at {path}: build it first (make build), or set SEARCHD_BIN")
    return path


@dataclass
class Server:
    host: str
    port: int
    unix_socket: str | None = None
    tls_port: int | None = None
    certificates: Path | None = None
    one_request_per_connection: bool = False


def _wait_for_line(process: subprocess.Popen[str], output: IO[str], pattern: str) -> re.Match[str]:
    """The first line of `output` (the process's) matching `pattern`, within START_TIMEOUT."""
    found: list[re.Match[str]] = []
    seen: list[str] = []
    ready = threading.Event()

    def follow() -> None:
        for line in output:
            seen.append(line)
            match = re.search(pattern, line)
            if match:
                found.append(match)
                break
        ready.set()
        # Keep draining, so the server never blocks on a full pipe (until the pipe is closed).
        with contextlib.suppress(ValueError, OSError):
            for _ in output:
                pass

    threading.Thread(target=follow, daemon=True).start()
    ready.wait(START_TIMEOUT)
    if not found:
        process.kill()
        pytest.fail(f"the server did not start: {''.join(seen)[-2000:]}")
    return found[0]


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)


def make_certificates(folder: Path) -> None:
    """A CA, a server certificate for localhost and 127.0.0.1, and a client's."""
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *curve,
        "-subj",
        "/CN=ca",
        "-days",
        "2",
        "-keyout",
        str(folder / "ca.key"),
        "-out",
        str(folder / "ca.pem"),
    )
    for name, extensions in [("server", "subjectAltName=DNS:localhost,IP:127.0.0.1"), ("alice", None)]:
        _openssl(
            "req",
            *curve,
            "-subj",
            f"/CN={name if name != 'server' else 'localhost'}",
            "-keyout",
            str(folder / f"{name}.key"),
            "-out",
            str(folder / f"{name}.csr"),
        )
        sign = [
            "x509",
            "-req",
            "-in",
            str(folder / f"{name}.csr"),
            "-CA",
            str(folder / "ca.pem"),
            "-CAkey",
            str(folder / "ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            str(folder / f"{name}.pem"),
        ]
        if extensions:
            (folder / f"{name}.ext").write_text(extensions)
            sign += ["-extfile", str(folder / f"{name}.ext")]
        _openssl(*sign)


@pytest.fixture(scope="session")
def daemon() -> Iterator[Server]:
    """One searchd for the session: TCP, a Unix socket, and TLS asking for client certificates."""
    with tempfile.TemporaryDirectory(prefix="searchd-python-") as tmp:
        folder = Path(tmp)
        make_certificates(folder)
        unix_socket = str(folder / "searchd.sock")
        process = subprocess.Popen(
            [
                str(searchd_binary()),
                "--listen",
                "127.0.0.1:0",
                "--listen",
                f"unix:{unix_socket}",
                "--tls-listen",
                "127.0.0.1:0",
                "--tls-certificate",
                str(folder / "server.pem"),
                "--tls-key",
                str(folder / "server.key"),
                "--tls-client-ca",
                str(folder / "ca.pem"),
                "--tls-verify-clients",
                "optional",
                "--threads",
                "1",
                "--log-target",
                "stderr",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=_without_systemd(),
        )
        assert process.stderr is not None
        line = _wait_for_line(process, process.stderr, r".*searchd ready.*").group(0)
        port = re.search(r"(?:^|[ =])app=127\.0\.0\.1:(\d+)", line)
        tls = re.search(r"app-tls=127\.0\.0\.1:(\d+)", line)
        assert port and tls, line
        try:
            yield Server("127.0.0.1", int(port.group(1)), unix_socket, int(tls.group(1)), folder)
        finally:
            _stop(process)
            process.stderr.close()


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, and SIGKILL if it lingers: a server left behind would hold a core."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _without_systemd() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "JOURNAL_STREAM"):
        env.pop(key, None)
    return env


@pytest.fixture(scope="session")
def tutorial() -> Iterator[Server]:
    """The tutorial's own server: one request per connection, then it closes."""
    process = subprocess.Popen(
        [sys.executable, str(TUTORIAL_SERVER), "127.0.0.1", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    match = _wait_for_line(process, process.stdout, r"listening on \('127\.0\.0\.1', (\d+)\)")
    try:
        yield Server("127.0.0.1", int(match.group(1)), one_request_per_connection=True)
    finally:
        _stop(process)
        process.stdout.close()


@pytest.fixture(params=["daemon", "tutorial"])
def server(request: pytest.FixtureRequest) -> Server:
    """Each test that takes `server` runs against both."""
    result: Server = request.getfixturevalue(request.param)
    return result


class Peer:
    """A listener on loopback whose every connection is handed to `behave` in a thread:
    a peer that is not searchd, or misbehaves on purpose. Counts its connections."""

    def __init__(self, behave: Callable[[socket.socket, int], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.connections = 0
        self._behave = behave
        self._threads: list[threading.Thread] = []
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket, n: int) -> None:
        # A client that gave up first is what most of these peers are for.
        with contextlib.suppress(OSError, EOFError):
            self._behave(conn, n)

    def close(self) -> None:
        # Shut down first: that wakes the thread blocked in accept, which a close does not.
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for conn in self._open:
            conn.close()


@pytest.fixture
def peer() -> Iterator[Callable[[Callable[[socket.socket, int], None]], Peer]]:
    made: list[Peer] = []

    def make(behave: Callable[[socket.socket, int], None]) -> Peer:
        made.append(Peer(behave))
        return made[-1]

    yield make
    for p in made:
        p.close()


def read_request(conn: socket.socket) -> bytes:
    """One whole request of the tutorial's framing, read by a test peer."""
    data = bytearray()

    def need(n: int) -> None:
        while len(data) < n:
            chunk = conn.recv(65536)
            if not chunk:
                raise EOFError("the client closed")
            data.extend(chunk)

    need(2)
    n = int.from_bytes(data[:2], "big")
    need(2 + n)
    need(2 + n + json.loads(bytes(data[2 : 2 + n]))["content-length"])
    return bytes(data)
