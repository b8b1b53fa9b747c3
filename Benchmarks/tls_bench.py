"""TLS: searchd over TLS against searchd in plaintext and against redis-server 7.0's TLS
(part of `bench.py all`; alone: `bench.py tls`).

Pinned as the rest: the server on CPU 0 with one loop (Redis is single-threaded), the
client on CPU 1. Both servers use the same ECDSA P-256 certificate and Debian's OpenSSL
3 with its defaults (TLS 1.3, X25519), so a handshake costs the same curve on each side.
Keep-alive runs send searches that hit (searchd) and GETs (Redis) with 50 connections,
1 and 16 in flight; per-connection runs connect, shake hands, ask once and close.
"""

import os
import resource
import socket
import ssl
import statistics
import subprocess
import time

import bench


def certificates(folder):
    """A CA and a server certificate for 127.0.0.1, made once in `folder`."""
    os.makedirs(folder, exist_ok=True)
    if os.path.exists(f"{folder}/server.pem"):
        return
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    bench.sh(["openssl", "req", "-x509", *curve, "-subj", "/CN=bench-ca", "-days", "30",
              "-keyout", f"{folder}/ca.key", "-out", f"{folder}/ca.pem"])
    bench.sh(["openssl", "req", *curve, "-subj", "/CN=localhost", "-keyout", f"{folder}/server.key",
              "-out", f"{folder}/server.csr"])
    with open(f"{folder}/server.ext", "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    bench.sh(["openssl", "x509", "-req", "-in", f"{folder}/server.csr", "-CA", f"{folder}/ca.pem", "-CAkey",
              f"{folder}/ca.key", "-CAcreateserial", "-days", "30", "-extfile", f"{folder}/server.ext",
              "-out", f"{folder}/server.pem"])


def start_searchd(bins, folder, server="searchd"):
    """searchd (on the backend `server` names) with a plaintext and a TLS listener; returns the server
    and the TLS port."""
    port = bench.free_port()
    srv = bench.start(server, bins, None, True, extra=[
        "--tls-listen", f"127.0.0.1:{port}", "--tls-certificate", f"{folder}/server.pem",
        "--tls-key", f"{folder}/server.key"])
    return srv, port


def start_c(folder, tls):
    """The hand-written C server (Benchmarks/c-server), in plaintext or over TLS with
    searchd's OpenSSL settings: the least a server on this library and kernel pays."""
    extra = ["tls", f"{folder}/server.pem", f"{folder}/server.key"] if tls else []
    return bench.Server("c", bench.taskset(0, [f"{bench.OUT}/c-server", "0", *extra]), r"127\.0\.0\.1:(\d+)")


def start_redis(folder):
    """redis-server with a TLS port beside its plaintext one."""
    port, tls_port = bench.free_port(), bench.free_port()
    srv = bench.Server("redis", bench.taskset(0, [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--maxclients", "12000", "--protected-mode", "no", "--tls-port", str(tls_port),
        "--tls-cert-file", f"{folder}/server.pem", "--tls-key-file", f"{folder}/server.key",
        "--tls-ca-cert-file", f"{folder}/ca.pem", "--tls-auth-clients", "no"]), None, port=port)
    subprocess.run(["redis-cli", "-p", str(port), "set", "key:__rand_int__", "x" * 40], capture_output=True)
    return srv, tls_port


def searchctl(bins, port, folder, conns, pipeline, seconds, tls, mode="keepalive", resume=False):
    argv = [f"{bins}/searchctl", "bench", "-p", str(port), "-c", str(conns), "-P", str(pipeline),
            "--duration", str(seconds), "--mode", mode, "--json", "--threads", "1", "--kind", "hit",
            "--timeout", "30"]
    if tls:
        argv += ["--tls", "--cacert", f"{folder}/ca.pem"]
    if resume:
        argv.append("--tls-resume")
    if mode == "per-connection":
        argv += ["--bind", bench.PER_CONNECTION_SOURCES]
    out = subprocess.run(bench.taskset(1, argv), text=True, capture_output=True)
    r = bench.json.loads(out.stdout.strip().splitlines()[-1])
    if r["errors"]:
        raise RuntimeError(f"bench errors: {r['errors']}")
    return r["requests"], r["requests_per_second"], r["latency_us"]


def redis_benchmark(port, folder, conns, pipeline, seconds, tls, per_connection=False, estimate=100_000):
    n = max(int(estimate * seconds), 5_000)
    argv = ["redis-benchmark", "-p", str(port), "-c", str(conns), "-P", str(pipeline), "-n", str(n), "-t", "get",
            "--csv", "--threads", "1"]
    if tls:
        argv += ["--tls", "--cacert", f"{folder}/ca.pem"]
    if per_connection:
        argv += ["-k", "0"]
    out = bench.sh(bench.taskset(1, argv))
    rows = [l for l in out.splitlines() if l.startswith('"') and not l.startswith('"test"')]
    return n, float(rows[-1].split(",")[1].strip('"')), None


def keepalive(args, bins, folder, have_redis):
    """CPU per request, by peer and depth, interleaved rounds."""
    peers = ["searchd", "searchd-tls", "searchd-uring-tls", "c", "c-tls"] + (
        ["redis", "redis-tls"] if have_redis else [])
    out = {}
    for pipeline in (1, 16):
        def run(peer):
            tls = peer.endswith("tls")
            if peer.startswith("searchd"):
                srv, tls_port = start_searchd(bins, folder, "searchd-uring" if "uring" in peer else "searchd")
                client = lambda: searchctl(bins, tls_port if tls else srv.port, folder, 50, pipeline, args.seconds,
                                           tls)
            elif peer.startswith("c"):
                srv = start_c(folder, tls)
                client = lambda: searchctl(bins, srv.port, folder, 50, pipeline, args.seconds, tls)
            else:
                srv, tls_port = start_redis(folder)
                est = (100_000 if pipeline == 1 else 600_000) // (2 if tls else 1)
                client = lambda: redis_benchmark(tls_port if tls else srv.port, folder, 50, pipeline, args.seconds,
                                                 tls, estimate=est)
            try:
                return bench.measure(srv, client)
            finally:
                srv.stop()
        for peer, runs in bench.interleaved(args, peers, run):
            out[(peer, pipeline)] = runs
            print("tls keepalive", pipeline, peer, bench.summary([r["cpu_us"] for r in runs]), flush=True)
    return out


def handshakes(args, bins, folder, have_redis):
    """CPU per connection: full handshakes (searchd, the C server, Redis) and resumed ones
    (searchd, the C server)."""
    peers = ["searchd-full", "searchd-resumed", "c-full", "c-resumed"] + (["redis-full"] if have_redis else [])
    out = {}

    def run(peer):
        if peer.startswith("searchd"):
            srv, tls_port = start_searchd(bins, folder)
            client = lambda: searchctl(bins, tls_port, folder, 50, 1, args.seconds, True, mode="per-connection",
                                       resume=peer.endswith("resumed"))
        elif peer.startswith("c"):
            srv = start_c(folder, True)
            client = lambda: searchctl(bins, srv.port, folder, 50, 1, args.seconds, True, mode="per-connection",
                                       resume=peer.endswith("resumed"))
        else:
            srv, tls_port = start_redis(folder)
            client = lambda: redis_benchmark(tls_port, folder, 50, 1, args.seconds, True, per_connection=True,
                                             estimate=2_000)
        try:
            return bench.measure(srv, client)
        finally:
            srv.stop()
    for peer, runs in bench.interleaved(args, peers, run):
        out[peer] = runs
        print("tls handshakes", peer, bench.summary([r["cpu_us"] for r in runs]), flush=True)
    return out


def idle_memory(bins, folder, count=10_000):
    """KiB of searchd memory per idle TLS connection after one answered request."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    context = ssl.create_default_context(cafile=f"{folder}/ca.pem")
    srv, port = start_searchd(bins, folder)
    try:
        def connect():
            s = context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
            ask(s)
            return s
        warm = connect()
        time.sleep(1)
        before = bench.rss_kib(srv.pid)
        socks = [connect() for _ in range(count)]
        time.sleep(1.5)  # the 250 ms sweep hands idle buffers back
        after = bench.rss_kib(srv.pid)
        for s in socks + [warm]:
            s.close()
        return (after - before) * 1024 / count
    finally:
        srv.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def ask(sock):
    """The benchmark's search on `sock`, and its whole reply."""
    sock.sendall(bench.MORPHEUS)
    got = b""
    while not bench.complete(got, None):
        got += sock.recv(4096)
    return got


def library_floor(bins, folder):
    """OpenSSL alone, in one process (Benchmarks/openssl-floor): the server's CPU per
    handshake and per record, and the heap an idle session holds, for records the size of
    the benchmark's search and searchd's reply; medians of 3 runs."""
    srv, _ = start_searchd(bins, folder)
    try:
        with socket.create_connection(("127.0.0.1", srv.port)) as s:
            reply = len(ask(s))
    finally:
        srv.stop()
    runs = []
    for _ in range(3):
        out = bench.sh(bench.taskset(0, [f"{bench.OUT}/openssl-floor", f"{folder}/server.pem", f"{folder}/server.key",
                                         str(len(bench.MORPHEUS)), str(reply)]))
        runs.append(bench.json.loads(out))
    return {k: (statistics.median(r[k] for r in runs) if k != "cipher" else runs[0][k]) for k in runs[0]}


def run(args, bins, have_redis):
    folder = os.path.join(bench.ROOT, ".build", "bench", "tls")
    certificates(folder)
    return {"keepalive": keepalive(args, bins, folder, have_redis),
            "handshakes": handshakes(args, bins, folder, have_redis),
            "idle": idle_memory(bins, folder), "floor": library_floor(bins, folder), "have_redis": have_redis,
            "runs": args.runs, "seconds": args.seconds}


def report(d):
    med = lambda runs: statistics.median([r["cpu_us"] for r in runs])
    rps = lambda runs: statistics.median([r["rps"] for r in runs])
    k = d["keepalive"]
    lines = ["## TLS", "",
             f"`bench.py tls` ({d['runs']} interleaved runs of {d['seconds']:g} s, medians), pinned: server on CPU 0 "
             "(searchd with one loop), client on CPU 1 (`searchctl bench`, `redis-benchmark --threads 1`). "
             "Same ECDSA P-256 certificate and Debian's OpenSSL 3 on both servers (TLS 1.3, X25519). "
             "Server CPU per request in µs.", "",
             "| c=50 | searchd | searchd TLS | TLS / plain | redis GET | redis TLS | TLS / plain | searchd TLS / redis TLS |",
             "|---|---|---|---|---|---|---|---|"]
    for p in (1, 16):
        s, st = med(k[("searchd", p)]), med(k[("searchd-tls", p)])
        row = f"| P={p} | {s:.2f} ({rps(k[('searchd', p)]):,.0f}/s) | {st:.2f} ({rps(k[('searchd-tls', p)]):,.0f}/s) | " \
              f"**{st / s:.2f}×** |"
        if d["have_redis"]:
            r, rt = med(k[("redis", p)]), med(k[("redis-tls", p)])
            row += f" {r:.2f} | {rt:.2f} | {rt / r:.2f}× | **{st / rt:.2f}×** |"
        else:
            row += " – | – | – | – |"
        lines.append(row)
    lines += ["", "searchd's TLS on each backend (`--io-backend`): OpenSSL reads and writes the socket itself "
              "either way; the backend only says when.", "",
              "| c=50 | TLS on epoll | TLS on io_uring | io_uring / epoll |", "|---|---|---|---|"]
    for p in (1, 16):
        e, u = med(k[("searchd-tls", p)]), med(k[("searchd-uring-tls", p)])
        lines.append(f"| P={p} | {e:.2f} | {u:.2f} | **{u / e:.2f}×** (target ≤ 1.0) |")
    lines += ["", "The same client against the hand-written C server (`Benchmarks/c-server`: epoll, one read and one "
              "write a wakeup, nothing but framing), in plaintext and over TLS with searchd's OpenSSL settings: what "
              "this library and this kernel cost a server that does nothing else.", "",
              "| c=50 | C server | C server TLS | TLS / plain | searchd TLS / C server TLS |", "|---|---|---|---|---|"]
    for p in (1, 16):
        c, ct = med(k[("c", p)]), med(k[("c-tls", p)])
        lines.append(f"| P={p} | {c:.2f} ({rps(k[('c', p)]):,.0f}/s) | {ct:.2f} ({rps(k[('c-tls', p)]):,.0f}/s) | "
                     f"**{ct / c:.2f}×** | {med(k[('searchd-tls', p)]) / ct:.2f}× |")
    h = d["handshakes"]
    full, resumed = med(h["searchd-full"]), med(h["searchd-resumed"])
    cfull, cresumed = med(h["c-full"]), med(h["c-resumed"])
    lines += ["", "Per-connection (connect, handshake, one search or GET, close), c=50: server CPU per connection in µs.",
              "", "| | CPU per connection | connections/s |", "|---|---|---|",
              f"| searchd, full handshake | {full:.1f} | {rps(h['searchd-full']):,.0f} |",
              f"| searchd, resumed (`--tls-resume`) | {resumed:.1f} (**{resumed / full:.2f}×** a full one) | "
              f"{rps(h['searchd-resumed']):,.0f} |",
              f"| C server, full handshake | {cfull:.1f} | {rps(h['c-full']):,.0f} |",
              f"| C server, resumed | {cresumed:.1f} ({cresumed / cfull:.2f}× a full one) | "
              f"{rps(h['c-resumed']):,.0f} |"]
    if d["have_redis"]:
        rf = med(h["redis-full"])
        lines.append(f"| redis-server, full handshake | {rf:.1f} (searchd: **{full / rf:.2f}×**) | "
                     f"{rps(h['redis-full']):,.0f} |")
    lines += ["", f"An idle TLS connection after one request: **{d['idle'] / 1024:.1f} KiB** of searchd's memory "
              "(RSS growth over 10,000 such connections, divided; Python's ssl module as the client).", ""]
    f = d["floor"]
    plain1, plain16 = med(k[("searchd", 1)]), med(k[("searchd", 16)])
    per1, per16 = f["pair_us"], f["pair16_us"] / 16
    lines += ["What OpenSSL costs by itself (`Benchmarks/openssl-floor`: a server and a client session in one "
              "process, the client's records made beforehand and the server's reads and writes timed a whole run "
              f"at a time on its thread's CPU clock, searchd's context settings, {f['cipher']}; medians of 3 runs): "
              "the least any server on this library pays, with warm caches and no kernel, loop or parsing.", "",
              "| | OpenSSL alone | what it makes the least possible |", "|---|---|---|",
              f"| a request and its reply, one record each | {per1:.2f} µs | TLS / plain ≥ "
              f"{(plain1 + per1) / plain1:.2f}× at P=1 (target 1.25×) |",
              f"| 16 requests in one record, 16 replies in one | {per16:.2f} µs a request | TLS / plain ≥ "
              f"{(plain16 + per16) / plain16:.2f}× at P=16 (target 1.15×) |",
              f"| full handshake, one exchange, close | {f['full_us']:.0f} µs | |",
              f"| resumed handshake, the same | {f['resumed_us']:.0f} µs | resumed ≥ "
              f"{f['resumed_us'] / f['full_us']:.2f}× a full one before any kernel work (target 0.5×) |",
              f"| a new server session (`SSL_new`), heap | {f['new_bytes'] / 1024:.1f} KiB | |",
              f"| an idle server session after one exchange, record buffers freed | {f['idle_bytes'] / 1024:.1f} KiB | "
              "idle ≥ this (target 8 KiB) |", ""]
    return lines
