#!/usr/bin/env python3
"""searchd's benchmarks, run against its peers in one run (stdlib only).

  bench.py all [--seconds S] [--runs N] [--out BENCHMARKS.md]   the matrix (make bench)
  bench.py allocs [--max 0.05]                                   allocations per hit, miss, binary (make test)
  bench.py compare -c 50 -P 16 [--mode per-connection] [--peers searchd,c]
                                                                 one cell of the matrix, pinned, with ratios
  bench.py latency [--out FILE]                                  paced latency at half of searchd's peak, every server
  bench.py bigindex [--out FILE]                                 ten million keys vs Redis (big_index.py)
  bench.py tls [--out FILE]                                      TLS vs plaintext and Redis's TLS (tls_bench.py)
  bench.py fleet [--out FILE]                                    the PROXY header's and a scrape's cost (fleet_bench.py)
  bench.py python-client [--out FILE]                            clients/python against redis-py (python_client.py)
  bench.py suggest [--out FILE]                                  suggestions vs PostgreSQL's pg_trgm (suggest_bench.py)

Servers: searchd, a minimal C epoll server, a SwiftNIO server, redis-server (GET and
PING, driven by redis-benchmark) and the tutorial's Python server (per-connection only).
The client is `searchctl bench` for all but Redis. Server CPU per request comes from
/proc/PID/stat (utime + stime of every thread) over the run: the figure least disturbed
by the noise of a shared machine. Figures are medians of N runs with min-max.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import socket
import statistics
import struct
import subprocess
import sys
import time

import big_index
import fleet_bench
import python_client
import suggest_bench
import tls_bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, ".build", "bench")
TICK = os.sysconf("SC_CLK_TCK")
PER_CONNECTION_SOURCES = "127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5"
MORPHEUS = (b'\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", '
            b'"content-length": 41}{"action": "search", "value": "morpheus"}')


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def build():
    os.makedirs(OUT, exist_ok=True)
    # SEARCHD_BUILD_FLAGS: `make allocs` counts the .deb's build (the Makefile's STATIC_FLAGS).
    flags = os.environ.get("SEARCHD_BUILD_FLAGS", "").split()
    sh(["swift", "build", "-c", "release", *flags], cwd=ROOT)
    bins = sh(["swift", "build", "-c", "release", *flags, "--show-bin-path"], cwd=ROOT).strip()
    for name, src, extra, libs in [("c-server", "c-server/server.c", [], ["-lssl", "-lcrypto"]),
                                   ("c-uring-server", "c-uring-server/server.c", [], ["-luring"]),
                                   ("loadgen", "c-loadgen/loadgen.c", [], []),
                                   ("count.so", "malloc-count/count.c", ["-shared", "-fPIC"], []),
                                   ("openssl-floor", "openssl-floor/floor.c", [], ["-lssl", "-lcrypto"])]:
        sh(["gcc", "-O2", "-Wall", *extra, "-o", os.path.join(OUT, name), os.path.join(ROOT, "Benchmarks", src),
            *libs])
    return bins


def build_nio():
    pkg = os.path.join(ROOT, "Benchmarks", "nio-server")
    scratch = os.path.join(ROOT, ".build-nio")
    try:
        sh(["swift", "build", "-c", "release", "--package-path", pkg, "--scratch-path", scratch])
    except subprocess.CalledProcessError as e:
        print("SwiftNIO server did not build:", e.stderr[-2000:], file=sys.stderr)
        return None
    return os.path.join(sh(["swift", "build", "-c", "release", "--package-path", pkg, "--scratch-path", scratch,
                            "--show-bin-path"]).strip(), "NIOSearchServer")


def search_request(value):
    """A search as the tutorial's client frames it."""
    content = json.dumps({"action": "search", "value": value}).encode()
    header = json.dumps({"byteorder": sys.byteorder, "content-type": "text/json", "content-encoding": "utf-8",
                         "content-length": len(content)}).encode()
    return len(header).to_bytes(2, "big") + header + content


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Server:
    """A server process, pinned or not, and the port it listens on."""

    def __init__(self, name, argv, ready, port=None, env=None):
        self.name = name
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, **(env or {})})
        self.port = port
        deadline = time.time() + 30
        while self.port is None and time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(ready, line)
            if m:
                self.port = int(m.group(1))
        if self.port is None:
            raise RuntimeError(f"{name} did not start")
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port)).close()
                break
            except OSError:
                time.sleep(0.05)
        # Keep reading its output so a chatty server never blocks on a full pipe.
        import threading
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def taskset(cpu, argv):
    return ["taskset", "-c", str(cpu), *argv] if cpu is not None else argv


# searchd on its default backend (io-backend = auto), and on each one named.
SEARCHD_BACKENDS = {"searchd": [], "searchd-epoll": ["--io-backend", "epoll"],
                    "searchd-uring": ["--io-backend", "io_uring"]}


def start(kind, bins, nio, pinned, close=False, env=None, extra=()):
    cpu = 0 if pinned else None
    threads = "1" if pinned else str(os.cpu_count())
    if kind in SEARCHD_BACKENDS:
        argv = [f"{bins}/searchd", "--listen", "127.0.0.1:0", "--threads", threads, "--log-level", "warning",
                "--log-target", "stderr", "--max-connections", "12000", *SEARCHD_BACKENDS[kind], *extra]
        if close:
            argv.append("--close-after-reply")
        # searchd logs its ports at info; ask for them on a port we choose instead.
        port = free_port()
        argv[2] = f"127.0.0.1:{port}"
        return Server(kind, taskset(cpu, argv), None, port=port, env=env)
    if kind == "c":
        return Server(kind, taskset(cpu, [f"{OUT}/c-server", "0"] + (["close"] if close else [])),
                      r"127\.0\.0\.1:(\d+)", env=env)
    if kind == "c-uring":
        return Server(kind, taskset(cpu, [f"{OUT}/c-uring-server", "0"] + (["close"] if close else [])),
                      r"127\.0\.0\.1:(\d+)", env=env)
    if kind == "nio":
        return Server(kind, taskset(cpu, [nio, "0", threads]), r"127\.0\.0\.1:(\d+)", env=env)
    if kind == "python":
        return Server(kind, taskset(cpu, ["python3", f"{ROOT}/Tests/IntegrationTests/Python/tutorial_server.py",
                                          "127.0.0.1", "0"]), r", (\d+)\)")
    if kind == "redis":
        port = free_port()
        return Server(kind, taskset(cpu, ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                          "--appendonly", "no", "--maxclients", "12000", "--protected-mode", "no"]),
                      None, port=port)
    raise ValueError(kind)


KINDS = {"hit": ["--kind", "hit"], "miss": ["--kind", "miss"], "binary": ["--kind", "binary", "--size", "100"],
         "binary4k": ["--kind", "binary", "--size", "4096"],
         # A hit whose key is not ASCII, as the tutorial's client sends it (UTF-8, unescaped).
         "utf8": ["--kind", "search:\U0001F436"],
         # A miss whose query the client must escape (quotes, a backslash, a tab).
         "escaped": ["--kind", 'search:say "hi" \\ \t']}


def frame(name, content, encoding="utf-8", content_type="text/json"):
    """`--kind` for a request another client than the tutorial's might send: the frame
    written to a file in OUT (the tutorial's framing, its header keys in its order)."""
    header = json.dumps({"byteorder": "little", "content-type": content_type, "content-encoding": encoding,
                         "content-length": len(content)}).encode()
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"frame-{name}.bin")
    with open(path, "wb") as f:
        f.write(struct.pack(">H", len(header)) + header + content)
    return ["--kind", f"frame:{path}"]


# Searches spelled otherwise (compact, keys reordered, spaced, extra keys, UTF-16 and
# UTF-32 as Python's codecs write them), an invalid action, and well-framed requests
# refused with an error reply (no value, bad JSON).
SPELLINGS = {
    "compact": lambda: frame("compact", json.dumps({"value": "morpheus", "action": "search"},
                                                   separators=(",", ":")).encode()),
    "spaced": lambda: frame("spaced", b'{ "action" :\t"search" ,\n  "value" : "needle" }\n'),
    "utf16": lambda: frame("utf16", json.dumps({"action": "search", "value": "morpheus"}).encode("utf-16"),
                           "utf-16"),
    "utf16-miss": lambda: frame("utf16-miss", json.dumps({"action": "search", "value": "needle \U0001F436"},
                                                         ensure_ascii=False).encode("utf-16-be"), "utf-16-be"),
    "utf32": lambda: frame("utf32", json.dumps({"action": "search", "value": "morpheus"}).encode("utf-32"),
                           "utf-32"),
    "extra-keys": lambda: frame("extra-keys", json.dumps({"client": {"v": [1, 2.5, None]}, "action": "search",
                                                         "value": "morpheus"}).encode()),
    "invalid-action": lambda: frame("invalid-action",
                                    json.dumps({"action": "frobnicate", "value": "morpheus"}).encode()),
    "no-value": lambda: frame("no-value", json.dumps({"action": "search"}).encode()),
    "bad-json": lambda: frame("bad-json", b'{"action": "search", "value": "morpheus"'),
    # Suggestions: two typos allowed (8 letters), one needed; a prefix; a bad option.
    "suggest": lambda: frame("suggest", json.dumps({"action": "suggest", "value": "morphues"}).encode()),
    "suggest-prefix": lambda: frame("suggest-prefix", json.dumps({"action": "suggest", "value": "r"}).encode()),
    "suggest-bad-limit": lambda: frame("suggest-bad-limit",
                                       json.dumps({"action": "suggest", "value": "r", "limit": 0}).encode()),
}


def searchctl_bench(bins, port, conns, pipeline, seconds, pinned, mode="keepalive", rate=None, kind="hit"):
    argv = [f"{bins}/searchctl", "bench", "-p", str(port), "-c", str(conns), "-P", str(pipeline),
            "--duration", str(seconds), "--mode", mode, "--json", "--threads", "1" if pinned else "2", *KINDS[kind]]
    if rate:
        argv += ["--rate", str(rate)]
    if mode == "per-connection":
        # A client that closes first keeps each port in TIME_WAIT, and connect(2) picks from
        # half the ephemeral range: one source address caps the flow near 14,000
        # connections/s whatever the server. Four addresses lift the cap.
        argv += ["--bind", PER_CONNECTION_SOURCES]
    out = subprocess.run(taskset(1 if pinned else None, argv), text=True, capture_output=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if r["errors"]:
        raise RuntimeError(f"bench errors: {r['errors']}")
    return r["requests"], r["requests_per_second"], r["latency_us"]


def redis_bench(port, conns, pipeline, seconds, pinned, test, per_connection=False, estimate=100_000):
    n = max(int(estimate * seconds), 10_000)
    argv = ["redis-benchmark", "-p", str(port), "-c", str(conns), "-P", str(pipeline), "-n", str(n), "-t", test,
            "--csv", "--threads", "1"]
    if per_connection:
        argv += ["-k", "0"]
    out = sh(taskset(1 if pinned else None, argv))
    rows = [l for l in out.splitlines() if l.startswith('"') and not l.startswith('"test"')]
    rps = float(rows[-1].split(",")[1].strip('"'))
    return n, rps, None


def measure(server, client):
    before = cpu_ticks(server.pid)
    requests, rps, latency = client()
    used = cpu_ticks(server.pid) - before
    return {"rps": rps, "cpu_us": used * 1e6 / TICK / max(requests, 1), "latency": latency}


def summary(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def available(peer, nio, have_redis):
    return not (peer == "nio" and not nio or peer.startswith("redis") and not have_redis)


def interleaved(args, peers, run):
    """Runs every peer once per round, so a drift in the machine's load hits all peers
    alike and the ratios stay fair, in the reverse order every other round, so being
    first in a round favours none; returns (peer, runs) in the peers' order."""
    runs = {peer: [] for peer in peers}
    for round in range(args.runs):
        for peer in (peers if round % 2 == 0 else list(reversed(peers))):
            runs[peer].append(run(peer))
    return list(runs.items())


def one_run(bins, nio, peer, pinned, mode, conns, pipeline, seconds, kind="hit"):
    """One measured run of `peer`: a server `start` knows, `-close` after it to close after each reply
    (searchd-close), or redis-get or redis-ping."""
    close = peer.endswith("-close")
    server = "redis" if peer.startswith("redis") else peer.removesuffix("-close")
    srv = start(server, bins, nio, pinned, close=close)
    try:
        if peer.startswith("redis"):
            test = "get" if peer == "redis-get" else "ping_mbulk"
            if mode == "per-connection":
                return measure(srv, lambda: redis_bench(srv.port, conns, 1, seconds, pinned, "get",
                                                        per_connection=True, estimate=15_000))
            # redis-benchmark takes a request count, not a duration: aim at about `seconds`.
            est = (150_000 if conns > 1 else 30_000) * (8 if pipeline > 1 else 1)
            return measure(srv, lambda: redis_bench(srv.port, conns, pipeline, seconds, pinned, test, estimate=est))
        return measure(srv, lambda: searchctl_bench(bins, srv.port, conns, pipeline, seconds, pinned, mode=mode,
                                                    kind=kind))
    finally:
        srv.stop()


def run_matrix(args, bins, nio, have_redis):
    results = {}
    keepalive = [(1, 1), (1, 16), (50, 1), (50, 16), (500, 1), (500, 16)]
    per_conn = [1, 50]
    for pinned in (True, False):
        layout = "pinned" if pinned else "free"
        for conns, pipeline in keepalive:
            peers = ["searchd", "searchd-uring", "c", "c-uring", "nio", "redis-get", "redis-ping"]
            peers = [p for p in peers if available(p, nio, have_redis)]
            for peer, runs in interleaved(args, peers, lambda peer: one_run(bins, nio, peer, pinned, "keepalive",
                                                                            conns, pipeline, args.seconds)):
                results[(layout, "keepalive", conns, pipeline, peer)] = runs
                print(layout, "keepalive", conns, pipeline, peer, summary([r["rps"] for r in runs]), flush=True)
        for conns in per_conn:
            peers = ["searchd", "searchd-uring", "c", "c-uring", "searchd-close", "searchd-uring-close", "c-close",
                     "c-uring-close", "nio", "python", "redis-get"]
            peers = [p for p in peers if available(p, nio, have_redis)]
            for peer, runs in interleaved(args, peers, lambda peer: one_run(bins, nio, peer, pinned, "per-connection",
                                                                            conns, 1, args.seconds)):
                results[(layout, "per-connection", conns, 1, peer)] = runs
                print(layout, "per-connection", conns, peer, summary([r["rps"] for r in runs]), flush=True)
    return results


# Each backend of searchd and of the C server: searchd (its default, epoll) first.
KIND_PEERS = ["searchd", "searchd-uring", "c", "c-uring"]


def run_kinds(args, bins):
    """Every request kind, pinned, searchd against the C server (which answers each with the
    same bytes), each on epoll and on io_uring: server CPU per request."""
    out = {}
    for kind in ("hit", "miss", "binary", "binary4k"):
        for pipeline in (1, 16):
            for peer, runs in interleaved(args, KIND_PEERS, lambda peer: one_run(
                    bins, None, peer, True, "keepalive", 50, pipeline, args.seconds, kind=kind)):
                out[(kind, pipeline, peer)] = runs
                print("kind", kind, pipeline, peer, summary([r["rps"] for r in runs]), flush=True)
    return out


def kinds_report(kinds):
    lines = ["## Every request kind, pinned, c=50", "",
             "The C servers answer each kind with searchd's bytes (hit `morpheus`, miss `needle`, binary of 100 "
             "bytes and of 4 KiB); each server on epoll and on io_uring (`--io-backend io_uring`; the C twin "
             "is `c-uring-server`). Server CPU µs per request, median of the runs (range); searchd / C: on "
             "epoll (at most 1.1 is the target); ring / epoll: searchd on io_uring over searchd on epoll.", "",
             "| request | P | searchd epoll | searchd io_uring | C epoll | C io_uring | searchd / C | "
             "ring / epoll | searchd ring / C ring |",
             "|---|---|---|---|---|---|---|---|---|"]
    for kind in ("hit", "miss", "binary", "binary4k"):
        for p in (1, 16):
            cpu = {peer: summary([r["cpu_us"] for r in kinds[(kind, p, peer)]]) for peer in KIND_PEERS}
            med = {peer: cpu[peer]["median"] for peer in KIND_PEERS}
            lines.append(f"| {kind} | {p} | " + " | ".join(fmt(cpu[peer], 2) for peer in KIND_PEERS) +
                         f" | {med['searchd'] / med['c']:.2f} | {med['searchd-uring'] / med['searchd']:.2f} | "
                         f"{med['searchd-uring'] / med['c-uring']:.2f} |")
    return lines


def latency_at_half_peak(args, bins, nio, peak):
    rate = int(peak / 2)
    out = {}
    for peer in ["searchd", "searchd-uring", "c", "c-uring", "nio"]:
        if peer == "nio" and not nio:
            continue
        runs = []
        for _ in range(args.runs):
            srv = start(peer, bins, nio, True)
            try:
                runs.append(measure(srv, lambda: searchctl_bench(bins, srv.port, 50, 1, args.seconds, True,
                                                                 rate=rate)))
            finally:
                srv.stop()
        out[peer] = runs
    return rate, out


def idle_memory(bins, nio, have_redis, count=10_000):
    """KiB of server memory per idle connection after one answered request."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    out = {}
    for peer in ["searchd", "searchd-uring", "c", "c-uring", "nio", "redis"]:
        if peer == "nio" and not nio or peer == "redis" and not have_redis:
            continue
        srv = start(peer, bins, nio, False)
        try:
            request, reply_end = (b"PING\r\n", b"\r\n") if peer == "redis" else (MORPHEUS, None)
            warm = socket.create_connection(("127.0.0.1", srv.port))
            warm.sendall(request)
            warm.recv(4096)
            time.sleep(1)
            before = rss_kib(srv.pid)
            socks = []
            for _ in range(count):
                s = socket.create_connection(("127.0.0.1", srv.port))
                s.sendall(request)
                socks.append(s)
            for s in socks:
                got = b""
                while not complete(got, reply_end):
                    chunk = s.recv(4096)
                    if not chunk:
                        raise RuntimeError(f"{peer} closed an idle-memory connection")
                    got += chunk
            time.sleep(1.5)  # searchd hands idle buffers back on its 250 ms sweep
            after = rss_kib(srv.pid)
            out[peer] = (after - before) * 1024 / count
            for s in socks:
                s.close()
            warm.close()
        finally:
            srv.stop()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return out


def complete(got, line_end):
    """A whole reply: a Redis line, or a protocol message (2-byte length, header, content)."""
    if line_end:
        return got.endswith(line_end)
    if len(got) < 2:
        return False
    n = int.from_bytes(got[:2], "big")
    if len(got) < 2 + n:
        return False
    length = json.loads(got[2:2 + n])["content-length"]
    return len(got) >= 2 + n + length


def counted_run(argv):
    """A searchctl bench run for counting: the refused kinds get only error replies, which
    bench reports (exit 3, errors: error-reply); any other failure stops the count."""
    r = subprocess.run(argv + ["--json"], text=True, capture_output=True)
    errors = json.loads(r.stdout.strip().splitlines()[-1])["errors"] if r.stdout.strip() else None
    if r.returncode not in (0, 3) or errors is None or set(errors) - {"error-reply"}:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}, {r.stdout}{r.stderr}")


def allocations(bins, requests=200_000, server="searchd", names=None):
    """Allocations per request in searchd (on the backend `server` names), counted by an LD_PRELOAD malloc
    counter: every kind, or those `names` lists."""
    counter = os.path.join(OUT, "malloc-count")
    if os.path.exists(counter):
        os.remove(counter)
    srv = start(server, bins, None, False, env={"LD_PRELOAD": f"{OUT}/count.so", "MALLOC_COUNT_FILE": counter})
    read = lambda: int.from_bytes(open(counter, "rb").read(8), "little")
    out = {}
    try:
        kinds = {**KINDS, **{name: make() for name, make in SPELLINGS.items()}}
        names = names or ("hit", "miss", "binary", "binary4k", "utf8", "escaped", *SPELLINGS)
        for kind, pipeline in [(k, p) for k in names for p in (1, 16)]:
            argv = [f"{bins}/searchctl", "bench", "-p", str(srv.port), "-c", "10", "-P", str(pipeline), *kinds[kind]]
            counted_run(argv + ["-n", "20000"])  # warm up: buffers grown, tables built
            before = read()
            counted_run(argv + ["-n", str(requests)])
            out[(kind, pipeline)] = (read() - before) / requests
    finally:
        srv.stop()
    return out


def backend_allocations(bins, requests):
    """Every kind on the default backend (epoll), and the exact kinds again on io_uring: the
    request path is the same above the loop's seam."""
    out = allocations(bins, requests)
    uring = allocations(bins, requests, "searchd-uring", ("hit", "miss", "binary", "binary4k"))
    out.update({("io_uring " + kind, p): a for (kind, p), a in uring.items()})
    return out


def tls_allocations(bins, requests=100_000):
    """Allocations per request over TLS: searchd's own, and OpenSSL's (counted apart)."""
    folder = os.path.join(OUT, "tls")
    tls_bench.certificates(folder)
    counter = os.path.join(OUT, "malloc-count-tls")
    if os.path.exists(counter):
        os.remove(counter)
    port = free_port()
    srv = start("searchd", bins, None, False, env={"LD_PRELOAD": f"{OUT}/count.so", "MALLOC_COUNT_FILE": counter},
                extra=["--tls-listen", f"127.0.0.1:{port}", "--tls-certificate", f"{folder}/server.pem",
                       "--tls-key", f"{folder}/server.key"])

    def read():
        raw = open(counter, "rb").read(16)
        return int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:16], "little")
    out = {}
    try:
        for kind, pipeline in [(k, p) for k in ("hit", "miss") for p in (1, 16)]:
            argv = [f"{bins}/searchctl", "bench", "-p", str(port), "-c", "10", "-P", str(pipeline), *KINDS[kind],
                    "--tls", "--cacert", f"{folder}/ca.pem"]
            sh(argv + ["-n", "20000"])
            total0, ossl0 = read()
            sh(argv + ["-n", str(requests)])
            total1, ossl1 = read()
            ossl = ossl1 - ossl0
            out[(kind, pipeline)] = ((total1 - total0 - ossl) / requests, ossl / requests)
    finally:
        srv.stop()
    return out


def loadgen_comparison(args, bins):
    """searchctl bench against the C load generator, both driving the C server."""
    out = {}
    for pipeline in (1, 16):
        ours, theirs = [], []
        for _ in range(args.runs):
            srv = start("c", bins, None, True)
            try:
                ours.append(searchctl_bench(bins, srv.port, 50, pipeline, args.seconds, True)[1])
            finally:
                srv.stop()
            srv = start("c", bins, None, True)
            try:
                line = sh(taskset(1, [f"{OUT}/loadgen", str(srv.port), "50", str(pipeline), str(args.seconds)]))
                theirs.append(float(line.split()[-1]))
            finally:
                srv.stop()
        out[pipeline] = (statistics.median(ours), statistics.median(theirs))
    return out


def compare(args, bins):
    """One cell of the matrix, pinned, interleaved: for profiling a change without the whole run."""
    peers = args.peers.split(",")
    nio = build_nio() if "nio" in peers else None
    cells = dict(interleaved(args, peers, lambda peer: one_run(bins, nio, peer, True, args.mode, args.conns,
                                                               args.pipeline, args.seconds, kind=args.kind)))
    first = peers[0]
    for peer, runs in cells.items():
        rps = statistics.median([r["rps"] for r in runs])
        cpu = statistics.median([r["cpu_us"] for r in runs])
        line = (f"{peer:10} {rps:>12,.0f}/s  ({min(r['rps'] for r in runs):,.0f}–{max(r['rps'] for r in runs):,.0f})"
                f"  CPU {cpu:6.2f} µs  ({min(r['cpu_us'] for r in runs):.2f}–{max(r['cpu_us'] for r in runs):.2f})")
        if peer != first:
            ours = cells[first]
            line += (f"   {first}/{peer}: rps {statistics.median([r['rps'] for r in ours]) / rps:.2f}"
                     f"  CPU {statistics.median([r['cpu_us'] for r in ours]) / cpu:.2f}")
        print(line, flush=True)


def fmt(s, digits=0):
    if s is None:
        return "—"
    f = f"{{:,.{digits}f}}"
    return f"{f.format(s['median'])} ({f.format(s['min'])}–{f.format(s['max'])})"


def report(args, results, kinds, half, idle, allocs, loadgen, nio, have_redis, big, tls, fleet, pyclient,
           suggestions):
    cpu = sh(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).strip()
    lines = [
        "# searchd benchmarks",
        "",
        f"Written by `make bench` (`python3 Benchmarks/bench.py all --seconds {args.seconds} --runs {args.runs}`) "
        f"on {datetime.date.today().isoformat()}.",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} cores ({cpu}), Linux {platform.release()}; "
        f"{sh(['swift', '--version']).splitlines()[0].strip()}.",
        "Every server on 127.0.0.1; **pinned**: server on CPU 0 with one thread (searchd `--threads 1`, NIO one "
        "event loop), client on CPU 1 (`taskset`); **free**: no pinning, searchd and NIO with one loop per core, "
        "client with 2 threads.",
        "Client: `searchctl bench -c C -P P --duration S [--mode per-connection]` (every reply verified) for "
        "searchd, the C server, SwiftNIO and Python; `redis-benchmark -c C -P P -n N -t get|ping_mbulk "
        "[-k 0]` for Redis. Figures: median (min–max) of the runs. Server CPU per request: utime+stime of the "
        "server process over the run (/proc/PID/stat) divided by the replies.",
        "",
    ]
    lines += kinds_report(kinds)
    lines.append("")
    lines += big_index.report(big)
    lines += tls_bench.report(tls)
    lines += fleet_bench.report(fleet)
    lines += python_client.report(pyclient) + [""]
    lines += suggest_bench.report(suggestions) + [""]
    for layout in ("pinned", "free"):
        lines += [f"## Keep-alive, {layout}", "",
                  "| c | P | server | requests/s | server CPU µs/request | p50 µs | p99 µs |", "|---|---|---|---|---|---|---|"]
        for (l, mode, c, p, peer), runs in results.items():
            if l != layout or mode != "keepalive":
                continue
            lat = [r["latency"] for r in runs if r["latency"]]
            p50 = summary([x["p50"] for x in lat])
            p99 = summary([x["p99"] for x in lat])
            lines.append(f"| {c} | {p} | {peer} | {fmt(summary([r['rps'] for r in runs]))} | "
                         f"{fmt(summary([r['cpu_us'] for r in runs]), 2)} | {fmt(p50)} | {fmt(p99)} |")
        lines += ["", f"## Per-connection (connect, request, reply, close), {layout}", "",
                  "Who closes first decides whose CPU does the TCP teardown, so flows are compared like for like: "
                  "`searchd` and `c` answer and wait for the client's close (keep-alive servers; searchd's "
                  "default); `searchd-close` (`--close-after-reply`), `c-close` and `python` close after the "
                  "reply, as the tutorial's server does; `redis-get` is `redis-benchmark -k 0`. searchctl bench "
                  f"connects from {PER_CONNECTION_SOURCES} (`--bind`): from one source address, the client's "
                  "TIME_WAIT ports cap the flow near 14,000 connections/s whatever the server; redis-benchmark "
                  "has no such option.", "",
                  "| c | server | connections/s | server CPU µs/connection |", "|---|---|---|---|"]
        for (l, mode, c, p, peer), runs in results.items():
            if l != layout or mode != "per-connection":
                continue
            lines.append(f"| {c} | {peer} | {fmt(summary([r['rps'] for r in runs]))} | "
                         f"{fmt(summary([r['cpu_us'] for r in runs]), 1)} |")
        lines.append("")

    def med(layout, mode, c, p, peer, key):
        runs = results.get((layout, mode, c, p, peer))
        return statistics.median([r[key] for r in runs]) if runs else None

    lines += ["## Ratios to the C server (pinned, medians)", "", "| what | searchd / C | target |", "|---|---|---|"]
    checks = [
        ("keep-alive c=50 P=1, CPU per request", ("keepalive", 50, 1), "cpu_us", "≤ 1.10"),
        ("keep-alive c=50 P=1, requests/s", ("keepalive", 50, 1), "rps", "≥ 0.90"),
        ("keep-alive c=50 P=16, CPU per request", ("keepalive", 50, 16), "cpu_us", "≤ 1.20"),
        ("keep-alive c=50 P=16, requests/s", ("keepalive", 50, 16), "rps", "≥ 0.85"),
    ]
    for what, (mode, c, p), key, target in checks:
        a, b = med("pinned", mode, c, p, "searchd", key), med("pinned", mode, c, p, "c", key)
        lines.append(f"| {what} | {a / b:.2f} | {target} |" if a and b else f"| {what} | — | {target} |")
    # Who closes first decides whose CPU tears the connection down, so each flow is compared
    # with its like: both servers closing after the reply (the target's flow), and both
    # waiting for the client's close (searchd's default, keep-alive).
    for ours, theirs, flow in [("searchd-close", "c-close", "both close after the reply, searchd --close-after-reply"),
                               ("searchd", "c", "both wait for the client's close, searchd's default")]:
        for key, what, target in [("rps", "connections/s", "≥ 0.90"), ("cpu_us", "CPU per connection", "≤ 1.20")]:
            a = med("pinned", "per-connection", 50, 1, ours, key)
            b = med("pinned", "per-connection", 50, 1, theirs, key)
            lines.append(f"| per-connection c=50, {what} ({flow}) | {a / b:.2f} | {target} |"
                         if a and b else f"| per-connection c=50, {what} ({flow}) | — | {target} |")
    # io_uring (issue 23): searchd on each backend, and the C twins that set the floor.
    for what, (mode, p), ours, theirs, target in [
            ("keep-alive c=50 P=1 CPU, searchd io_uring / searchd epoll", ("keepalive", 1), "searchd-uring",
             "searchd", "≤ 0.85"),
            ("keep-alive c=50 P=1 CPU, searchd io_uring / C epoll", ("keepalive", 1), "searchd-uring", "c", "≤ 0.90"),
            ("keep-alive c=50 P=16 CPU, searchd io_uring / searchd epoll", ("keepalive", 16), "searchd-uring",
             "searchd", "≤ 1.0"),
            ("per-connection c=50 CPU, searchd io_uring / searchd epoll", ("per-connection", 1), "searchd-uring",
             "searchd", "≤ 1.0"),
            ("keep-alive c=50 P=1 CPU, searchd io_uring / C io_uring", ("keepalive", 1), "searchd-uring", "c-uring",
             "≤ 1.10"),
            ("keep-alive c=50 P=16 CPU, searchd io_uring / C io_uring", ("keepalive", 16), "searchd-uring",
             "c-uring", "≤ 1.10"),
            ("(the floor: keep-alive c=50 P=1 CPU, C io_uring / C epoll)", ("keepalive", 1), "c-uring", "c", ""),
            ("(the floor: keep-alive c=50 P=16 CPU, C io_uring / C epoll)", ("keepalive", 16), "c-uring", "c", "")]:
        a, b = med("pinned", mode, 50, p, ours, "cpu_us"), med("pinned", mode, 50, p, theirs, "cpu_us")
        lines.append(f"| {what} | {a / b:.2f} | {target} |" if a and b else f"| {what} | — | {target} |")
    for key, what, target in [("p50", "p50", "≤ 1.2"), ("p99", "p99", "≤ 1.5")]:
        runs_s = results.get(("pinned", "keepalive", 1, 1, "searchd"))
        runs_c = results.get(("pinned", "keepalive", 1, 1, "c"))
        if runs_s and runs_c:
            a = statistics.median([r["latency"][key] for r in runs_s])
            b = statistics.median([r["latency"][key] for r in runs_c])
            lines.append(f"| c=1 P=1 latency {what} | {a / b:.2f} | {target} |")
    if nio:
        a, b = med("pinned", "keepalive", 50, 1, "searchd", "cpu_us"), med("pinned", "keepalive", 50, 1, "nio",
                                                                             "cpu_us")
        if a and b:
            lines.append(f"| keep-alive c=50 P=1, CPU per request vs SwiftNIO | {a / b:.2f} | ≤ 0.67 |")
    for peer in ("redis-get", "redis-ping"):
        a, b = med("pinned", "keepalive", 50, 1, peer, "cpu_us"), med("pinned", "keepalive", 50, 1, "c", "cpu_us")
        if a and b:
            lines.append(f"| ({peer} / C, CPU per request at c=50 P=1, for reference) | {a / b:.2f} | |")
    lines += [""] + latency_report(half)
    lines += ["", "## Memory per idle connection (10,000 connections, each after one answered request)", "",
              "RSS growth of the server divided by the connections, 1.5 s after the last reply.", "",
              "| server | bytes per connection |", "|---|---|"]
    for peer, b in idle.items():
        lines.append(f"| {peer} | {b:,.0f} |")
    lines += ["", "## Allocations per request in searchd (release build, LD_PRELOAD malloc counter)", "",
              "`Benchmarks/malloc-count/count.c` counts every malloc/calloc/realloc/memalign of the process; "
              "the figure is the count over a 200,000-request run divided by the requests, after a warm-up.", "",
              "| request | P=1 | P=16 |", "|---|---|---|"]
    for kind in dict.fromkeys(k for k, _ in allocs):
        lines.append(f"| {kind} | {allocs[(kind, 1)]:.4f} | {allocs[(kind, 16)]:.4f} |")
    lines += ["", "## Is searchctl bench the bottleneck? (C server, pinned, c=50)", "",
              "| P | searchctl bench requests/s | C load generator requests/s | ratio |", "|---|---|---|---|"]
    for p, (ours, theirs) in loadgen.items():
        lines.append(f"| {p} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f} |")
    if not have_redis:
        lines += ["", "redis-server was not installed, so Redis is missing from this run."]
    if not nio:
        lines += ["", "The SwiftNIO server did not build, so it is missing from this run."]
    return "\n".join(lines) + "\n"


def latency_report(half):
    """The paced-latency section's lines, for `all` and `latency` alike."""
    rate, lat = half
    lines = [f"## Latency at half of searchd's peak (c=50 P=1 pinned, paced at {rate:,} requests/s)", "",
             "`searchctl bench --rate` paces requests (waking at each one's due time, to the nanosecond) "
             "and counts latency from when each was due.", "",
             "| server | p50 µs | p90 µs | p99 µs | p99.9 µs |", "|---|---|---|---|---|"]
    for peer, runs in lat.items():
        cells = [fmt(summary([r["latency"][k] for r in runs])) for k in ("p50", "p90", "p99", "p99.9")]
        lines.append(f"| {peer} | " + " | ".join(cells) + " |")
    return lines


def latency_alone(args, bins):
    """searchd's unpaced peak at c=50 P=1 (pinned), then every server paced at half of it."""
    runs = [one_run(bins, None, "searchd", True, "keepalive", 50, 1, args.seconds) for _ in range(args.runs)]
    peak = statistics.median([r["rps"] for r in runs])
    print(f"searchd's peak: {peak:,.0f} requests/s", flush=True)
    return latency_at_half_peak(args, bins, build_nio(), peak)


def section(args, lines):
    """One table's report: printed, and written to --out when it names another file (a
    part never overwrites the whole BENCHMARKS.md)."""
    text = "\n".join(lines) + "\n"
    if args.out != os.path.join(ROOT, "BENCHMARKS.md"):
        open(args.out, "w").write(text)
    print(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["all", "allocs", "compare", "kinds", "latency", "bigindex", "tls", "fleet",
                                     "python-client", "suggest"])
    ap.add_argument("-c", "--conns", type=int, default=50, help="compare: connections")
    ap.add_argument("-P", "--pipeline", type=int, default=1, help="compare: requests in flight per connection")
    ap.add_argument("--mode", default="keepalive", choices=["keepalive", "per-connection"], help="compare")
    ap.add_argument("--kind", default="hit", choices=sorted(KINDS), help="compare: the request sent")
    ap.add_argument("--peers", default="searchd,c", help="compare: comma-separated peers, the first is measured "
                    "against the others")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--max", type=float, default=0.05,
                    help="allocs: the most allocations per request allowed, for every kind")
    ap.add_argument("--requests", type=int, default=200_000,
                    help="allocs: requests counted per kind and depth (half that over TLS)")
    args = ap.parse_args()
    bins = build()
    if args.what == "allocs":
        allocs = backend_allocations(bins, args.requests)
        for (kind, p), a in allocs.items():
            print(f"searchd allocations per request, {kind} P={p}: {a:.4f}")
        tls = tls_allocations(bins, args.requests // 2)
        for (kind, p), (ours, ossl) in tls.items():
            print(f"searchd allocations per request over TLS, {kind} P={p}: {ours:.4f} (OpenSSL's own: {ossl:.4f})")
            allocs[("TLS " + kind, p)] = ours
        (kind, p), worst = max(allocs.items(), key=lambda item: item[1])
        if worst > args.max:
            sys.exit(f"FAIL: a {kind} request (P={p}) allocates {worst:.4f} times per request (at most {args.max})")
        print(f"ok: hits (ASCII and UTF-8 keys), misses (escaped queries too), binary requests, searches spelled "
              f"otherwise (compact, spaced, extra keys, UTF-16, UTF-32), invalid actions and refused requests, "
              f"suggestions (a typo, a prefix, a bad limit), hits, misses and binary requests on io_uring, and "
              f"hits and misses over TLS (searchd's own), allocate at most {worst:.4f} times per request")
        return
    if args.what == "compare":
        compare(args, bins)
        return
    if args.what == "kinds":
        section(args, kinds_report(run_kinds(args, bins)))
        return
    if args.what == "latency":
        section(args, latency_report(latency_alone(args, bins)))
        return
    have_redis = subprocess.run(["sh", "-c", "command -v redis-server && command -v redis-benchmark"],
                                capture_output=True).returncode == 0
    if args.what in ("bigindex", "tls", "fleet", "python-client", "suggest"):
        module = {"bigindex": big_index, "tls": tls_bench, "fleet": fleet_bench, "python-client": python_client,
                  "suggest": suggest_bench}[
            args.what]
        section(args, module.report(module.run(args, bins, have_redis)))
        return
    nio = build_nio()
    results = run_matrix(args, bins, nio, have_redis)
    kinds = run_kinds(args, bins)
    peak = statistics.median([r["rps"] for r in results[("pinned", "keepalive", 50, 1, "searchd")]])
    half = latency_at_half_peak(args, bins, nio, peak)
    idle = idle_memory(bins, nio, have_redis)
    allocs = backend_allocations(bins, 200_000)
    loadgen = loadgen_comparison(args, bins)
    big = big_index.run(args, bins, have_redis)
    tls = tls_bench.run(args, bins, have_redis)
    fleet = fleet_bench.run(args, bins, have_redis)
    pyclient = python_client.run(args, bins, have_redis)
    suggestions = suggest_bench.run(args, bins, have_redis)
    text = report(args, results, kinds, half, idle, allocs, loadgen, nio, have_redis, big, tls, fleet, pyclient,
                  suggestions)
    open(args.out, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
