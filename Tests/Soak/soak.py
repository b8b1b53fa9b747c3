#!/usr/bin/env python3
"""A bounded soak of searchd: mixed load for SOAK_SECONDS (default 300) against a
daemon it starts itself on loopback, then checks nothing leaked: open fds back to
the baseline, no connection left open, RSS within 16 MiB of the warmed-up baseline,
every well-formed request answered correctly. Stdlib only.

Usage: soak.py PATH/TO/searchd [SECONDS]"""
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time

SEARCHD = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else float(os.environ.get("SOAK_SECONDS", 300))


def message(content, ctype="text/json", enc="utf-8"):
    header = json.dumps({"byteorder": sys.byteorder, "content-type": ctype, "content-encoding": enc,
                         "content-length": len(content)}, ensure_ascii=False).encode()
    return struct.pack(">H", len(header)) + header + content


def search(q, action="search"):
    return message(json.dumps({"action": action, "value": q}, ensure_ascii=False).encode())


class Reader:
    """Reads whole messages from a socket, keeping what arrives past the current one."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed")
            self.buf += chunk

    def message(self):
        self._need(2)
        hlen = struct.unpack(">H", self.buf[:2])[0]
        self._need(2 + hlen)
        header = json.loads(self.buf[2:2 + hlen])
        end = 2 + hlen + header["content-length"]
        self._need(end)
        content, self.buf = self.buf[2 + hlen:end], self.buf[end:]
        return header, content


def read_message(sock):
    return Reader(sock).message()


HIT = json.dumps({"result": "Follow the white rabbit. \U0001f430"}, ensure_ascii=False).encode()
BAD = [b"\x00\x00", b"\xff\xff", b"GET / HTTP/1.1\r\n\r\n", b"\x00\x05hello", message(b"not json"),
       message(b"{}"), message(b"{}", enc="klingon"), b"\x00\x10" + b"[" * 16]

stats = {"ok": 0, "bad_answered": 0, "resets": 0, "slow": 0, "echo": 0, "failures": []}
lock = threading.Lock()
stop = threading.Event()


def count(key, n=1):
    with lock:
        stats[key] += n


def fail(what):
    with lock:
        stats["failures"].append(what)


def keepalive(port):
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                reader = Reader(s)
                for _ in range(random.randint(1, 500)):
                    batch = random.randint(1, 16)
                    s.sendall(search("morpheus") * batch)
                    for _ in range(batch):
                        _, content = reader.message()
                        if content != HIT:
                            fail(f"keepalive: wrong reply {content!r}")
                    count("ok", batch)
        except Exception as e:
            fail(f"keepalive: {e!r}")


def per_connection(port):
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(search("morpheus"))
                _, content = read_message(s)
                if content != HIT:
                    fail(f"per-connection: wrong reply {content!r}")
                count("ok")
        except Exception as e:
            fail(f"per-connection: {e!r}")


def bad_input(port):
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(random.choice(BAD))
                header, content = read_message(s)
                if b'"error"' not in content:
                    fail(f"bad input: no error reply {content!r}")
                count("bad_answered")
        except Exception as e:
            fail(f"bad input: {e!r}")
        time.sleep(0.01)


def slow(port):
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                for b in search("morpheus"):
                    s.sendall(bytes([b]))
                    time.sleep(0.02)
                _, content = read_message(s)
                if content != HIT:
                    fail("slow: wrong reply")
                count("slow")
        except Exception as e:
            fail(f"slow: {e!r}")


def resets(port):
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(search("morpheus")[:random.randint(1, 60)])
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            count("resets")
        except Exception as e:
            fail(f"reset: {e!r}")
        time.sleep(0.005)


def echo(port):
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                data = os.urandom(random.randint(1, 200_000))
                s.sendall(data)
                got = b""
                while len(got) < len(data):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                if got != data:
                    fail("echo: bytes differ")
                count("echo")
        except Exception as e:
            fail(f"echo: {e!r}")


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def daemon_stats(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(search("", action="stats"))
        _, content = read_message(s)
        return json.loads(content)["stats"]


def main():
    proc = subprocess.Popen([SEARCHD, "--listen", "127.0.0.1:0", "--echo-listen", "127.0.0.1:0", "--threads", "2",
                             "--log-level", "info", "--log-target", "stderr", "--request-timeout", "5"],
                            stderr=subprocess.PIPE, text=True)
    ready = ""
    while "searchd ready" not in ready:
        ready = proc.stderr.readline()
        if not ready:
            sys.exit("searchd did not start")
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    app = int(re.search(r"app=127\.0\.0\.1:(\d+)", ready).group(1))
    echo_port = int(re.search(r"echo=127\.0\.0\.1:(\d+)", ready).group(1))

    # Warm up, so the baseline includes what the first connections allocate once.
    for _ in range(200):
        with socket.create_connection(("127.0.0.1", app)) as s:
            s.sendall(search("morpheus"))
            read_message(s)
    time.sleep(1)
    base_fds, base_rss = fds(proc.pid), rss_kib(proc.pid)

    workers = [(keepalive, app)] * 4 + [(per_connection, app)] * 2 + [(bad_input, app), (slow, app), (resets, app),
                                                                        (echo, echo_port)]
    threads = [threading.Thread(target=f, args=(p,), daemon=True) for f, p in workers]
    started = time.time()
    for t in threads:
        t.start()
    peak_rss = base_rss
    while time.time() - started < SECONDS:
        time.sleep(1)
        peak_rss = max(peak_rss, rss_kib(proc.pid))
    stop.set()
    for t in threads:
        t.join(timeout=30)
    time.sleep(2)

    end_fds, end_rss = fds(proc.pid), rss_kib(proc.pid)
    st = daemon_stats(app)
    proc.terminate()
    status = proc.wait(timeout=15)
    report = {
        "seconds": SECONDS, "requests_ok": stats["ok"], "bad_inputs_answered": stats["bad_answered"],
        "slow_requests": stats["slow"], "resets": stats["resets"], "echo_exchanges": stats["echo"],
        "failures": len(stats["failures"]), "fds_baseline": base_fds, "fds_end": end_fds,
        "rss_baseline_kib": base_rss, "rss_peak_kib": peak_rss, "rss_end_kib": end_rss,
        "connections_open_at_end": st["connections"]["current"] - 1, "connections_total": st["connections"]["total"],
        "exit_status": status,
    }
    print(json.dumps(report, indent=2))
    problems = []
    if stats["failures"]:
        problems.append(f"{len(stats['failures'])} failures, first: {stats['failures'][:3]}")
    if end_fds != base_fds:
        problems.append(f"fds {base_fds} -> {end_fds}")
    if report["connections_open_at_end"] != 0:
        problems.append(f"{report['connections_open_at_end']} connections left open")
    if end_rss - base_rss > 16 * 1024:
        problems.append(f"RSS grew {end_rss - base_rss} KiB")
    if status != 0:
        problems.append(f"exit status {status}")
    if problems:
        print("soak FAILED: " + "; ".join(problems))
        sys.exit(1)
    print("soak passed")


if __name__ == "__main__":
    main()
