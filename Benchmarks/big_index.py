"""A big index: ten million keys, compiled and mapped, against redis-server holding the
same keys (part of `bench.py all`; alone: `bench.py bigindex`).

Keys are `key:%012d`, the names `redis-benchmark -r N` asks for, so both servers are asked
for the same uniformly random keys; values are 20 to 80 printable bytes. searchd's client
draws from a file of one million keys picked uniformly from the ten million.
"""

import os
import random
import signal
import socket
import subprocess
import threading
import time

import bench

KEYS = 10_000_000
JSON_KEYS = 1_000_000


def generate(path, n, keys_path=None, sample=1_000_000, seed=10):
    """`n` keys with values of 20-80 bytes as one JSON object (and `sample` of the keys,
    uniformly picked, one a line); kept in .build/bench between runs."""
    if os.path.exists(path) and (keys_path is None or os.path.exists(keys_path + ".builtin")):
        return
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,"
    pool = "".join(rng.choice(alphabet) for _ in range(1 << 16))
    with open(path + ".part", "w") as f:
        f.write("{")
        for start in range(0, n, 100_000):
            chunk = []
            for i in range(start, min(start + 100_000, n)):
                at = rng.randrange(0, (1 << 16) - 80)
                chunk.append(f'"key:{i:012d}": "{pool[at:at + rng.randrange(20, 81)]}"')
            f.write((", " if start else "") + ", ".join(chunk))
        f.write("}")
    os.replace(path + ".part", path)
    if keys_path:
        with open(keys_path, "w") as f:
            f.write("".join(f"key:{rng.randrange(n):012d}\n" for _ in range(sample)))
        # The built-in index's three keys in the same count: the same client work per
        # request, so the two runs differ only in what the server looks up.
        with open(keys_path + ".builtin", "w") as f:
            f.write("".join(rng.choice(["morpheus\n", "ring\n", "\U0001F436\n"]) for _ in range(sample)))


def value_of(path, n):
    """The (key, value) pairs of a generated file, streamed: for loading Redis."""
    text = open(path).read()
    at = 1
    while True:
        k0 = text.find('"', at) + 1
        if k0 == 0:
            return
        k1 = text.find('"', k0)
        v0 = text.find('"', k1 + 1) + 1
        v1 = text.find('"', v0)
        yield text[k0:k1], text[v0:v1]
        at = v1 + 1


def timed_run(argv):
    """Wall seconds and peak RSS (KiB) of one command."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{argv} failed: {proc.stderr.read().decode()}")
    return time.monotonic() - start, usage.ru_maxrss


def smaps(pid):
    fields = {}
    for line in open(f"/proc/{pid}/smaps_rollup").read().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            fields["VmHWM"] = int(line.split()[1])
    # Written pages only this process maps (its heap, stacks): what no other process could
    # share, and what the kernel cannot drop and read back; the mapped index's pages are
    # clean page cache.
    fields["own"] = fields["Private_Dirty"]
    return fields


def first_answer(bins, index, key, threads="1"):
    """Starts searchd on `index`; the seconds from exec to the first answered search, and
    the running server."""
    port = bench.free_port()
    request = bench.search_request(key)
    start = time.monotonic()
    srv = Process(bench.taskset(0 if threads == "1" else None, [
        f"{bins}/searchd", "--listen", f"127.0.0.1:{port}", "--threads", threads, "--index", index,
        "--log-level", "warning", "--max-connections", "12000"]), port)
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(request)
                if s.recv(65536):
                    break
        except OSError:
            if srv.proc.poll() is not None:
                raise RuntimeError(f"searchd failed on {index}")
            time.sleep(0.001)
    return time.monotonic() - start, srv


class Process(bench.Server):
    """A server started without waiting for it: the start is what is measured."""

    def __init__(self, argv, port):
        self.name = argv[0]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.port = port


def redis_load(port, path):
    """SETs every key of the generated file through `redis-cli --pipe`."""
    proc = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    batch = []
    for k, v in value_of(path, KEYS):
        kb, vb = k.encode(), v.encode()
        batch.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(kb), kb, len(vb), vb))
        if len(batch) == 100_000:
            proc.stdin.write(b"".join(batch))
            batch = []
    proc.stdin.write(b"".join(batch))
    proc.stdin.close()
    proc.wait()


def redis_server(port, folder, cpu=0):
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", folder, "--dbfilename", "big.rdb", "--protected-mode", "no", "--maxclients", "12000"]
    return subprocess.Popen(bench.taskset(cpu, argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def redis_first_get(port, key):
    """Polls GET until it answers (not -LOADING)."""
    request = b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key.encode())
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(request)
                if s.recv(4096).startswith(b"$"):
                    return
        except OSError:
            pass
        time.sleep(0.001)


def measure_redis(args, folder, json_path):
    out = {}
    port = bench.free_port()
    rdb = os.path.join(folder, "big.rdb")
    if not os.path.exists(rdb):
        proc = redis_server(port, folder, cpu=None)
        redis_first_get(port, "warm")
        redis_load(port, json_path)
        subprocess.run(["redis-cli", "-p", str(port), "SAVE"], check=True, capture_output=True)
        proc.terminate()
        proc.wait()
    loads = []
    for _ in range(args.runs):
        start = time.monotonic()
        proc = redis_server(port, folder)
        redis_first_get(port, "key:000000000005")
        loads.append(time.monotonic() - start)
        if len(loads) < args.runs:
            proc.terminate()
            proc.wait()
    out["load"] = bench.summary(loads)
    out["memory"] = smaps(proc.pid)
    for p in (1, 16):
        runs = []
        for _ in range(args.runs):
            before = bench.cpu_ticks(proc.pid)
            n = int(150_000 * (8 if p > 1 else 1) * args.seconds)
            text = bench.sh(bench.taskset(1, ["redis-benchmark", "-p", str(port), "-c", "50", "-P", str(p), "-n",
                                              str(n), "-t", "get", "-r", str(KEYS), "--csv", "--threads", "1"]))
            rows = [l for l in text.splitlines() if l.startswith('"') and not l.startswith('"test"')]
            used = bench.cpu_ticks(proc.pid) - before
            runs.append({"rps": float(rows[-1].split(",")[1].strip('"')), "cpu_us": used * 1e6 / bench.TICK / n})
        out[("get", p)] = runs
    proc.terminate()
    proc.wait()
    return out


def keys_bench(bins, port, keys_path, pipeline, seconds, kind="keys", threads=1):
    argv = [f"{bins}/searchctl", "bench", "-p", str(port), "-c", "50", "-P", str(pipeline), "--duration",
            str(seconds), "--json", "--threads", str(threads), "--kind", kind]
    if kind == "keys":
        argv += ["--keys", keys_path]
    import json
    out = subprocess.run(bench.taskset(1 if threads == 1 else None, argv), text=True, capture_output=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_searchd(args, bins, folder, json_path, keys_path, small_json):
    out = {}
    sdx = os.path.join(folder, "big.sdx")
    builds = [timed_run([f"{bins}/searchd-index", "build", json_path, sdx]) for _ in range(args.runs)]
    size = os.path.getsize(sdx)
    out["build"] = {"seconds": bench.summary([b[0] for b in builds]), "peak": bench.summary([b[1] for b in builds]),
                    "json": os.path.getsize(json_path), "file": size}
    starts = []
    for _ in range(args.runs):
        elapsed, srv = first_answer(bins, sdx, "key:000000000005")
        starts.append(elapsed)
        memory = smaps(srv.pid)
        srv.stop()
    out["start"] = bench.summary(starts)
    out["memory"] = memory
    # JSON straight to --index: compiled in memory at start.
    json_starts = []
    for _ in range(args.runs):
        elapsed, srv = first_answer(bins, small_json, "key:000000000005")
        json_starts.append((elapsed, smaps(srv.pid)["VmHWM"]))
        srv.stop()
    out["json_start"] = {"seconds": bench.summary([s[0] for s in json_starts]),
                         "peak": bench.summary([s[1] for s in json_starts]), "file": os.path.getsize(small_json)}
    # Two daemons on one file: each one's proportional share.
    _, a = first_answer(bins, sdx, "key:000000000005")
    _, b = first_answer(bins, sdx, "key:000000000005")
    out["shared"] = (smaps(a.pid), smaps(b.pid))
    a.stop()
    b.stop()
    # CPU per request, pinned, interleaved: random hits and misses on the big index, the
    # hit on the built-in 3-key index.
    for p in (1, 16):
        for what in ("keys", "miss", "hit3"):
            out[(what, p)] = []
    for _ in range(args.runs):
        for p in (1, 16):
            for what in ("keys", "miss", "hit3"):
                if what == "hit3":
                    srv = bench.start("searchd", bins, None, True)
                else:
                    _, srv = first_answer(bins, sdx, "key:000000000005")
                try:
                    before = bench.cpu_ticks(srv.pid)
                    keys = keys_path + ".builtin" if what == "hit3" else keys_path
                    r = keys_bench(bins, srv.port, keys, p, args.seconds, "miss" if what == "miss" else "keys")
                    used = bench.cpu_ticks(srv.pid) - before
                    if r["errors"]:
                        raise RuntimeError(f"bench errors: {r['errors']}")
                    out[(what, p)].append({"rps": r["requests_per_second"],
                                           "cpu_us": used * 1e6 / bench.TICK / max(r["requests"], 1)})
                finally:
                    srv.stop()
    out["reload"] = reload_under_load(args, bins, sdx, keys_path)
    return out


def reload_under_load(args, bins, sdx, keys_path):
    """Random hits from 50 connections (two loops) while the index is replaced by a copy
    renamed over it and SIGHUP is sent: failed requests, and memory before and after."""
    _, srv = first_answer(bins, sdx, "key:000000000005", threads="2")
    try:
        result = {}
        runner = threading.Thread(target=lambda: result.update(
            keys_bench(bins, srv.port, keys_path, 1, 12, threads=2)))
        runner.start()
        time.sleep(3)
        before = smaps(srv.pid)
        subprocess.run(["cp", sdx, sdx + ".new"], check=True)
        os.replace(sdx + ".new", sdx)
        srv.proc.send_signal(signal.SIGHUP)
        during = []
        for _ in range(20):
            time.sleep(0.25)
            during.append(smaps(srv.pid))
        runner.join()
        after = smaps(srv.pid)
        return {"requests": result.get("requests", 0), "errors": sum(result.get("errors", {"missing": -1}).values()),
                "before": before, "after": after,
                "peak_own": max(d["own"] for d in during), "peak_rss": max(d["Rss"] for d in during)}
    finally:
        srv.stop()


def run(args, bins, have_redis):
    folder = os.path.join(bench.OUT, "big-index")
    os.makedirs(folder, exist_ok=True)
    json_path = os.path.join(folder, "big.json")
    keys_path = os.path.join(folder, "keys.txt")
    small_json = os.path.join(folder, "small.json")
    generate(json_path, KEYS, keys_path)
    generate(small_json, JSON_KEYS)
    out = {"searchd": measure_searchd(args, bins, folder, json_path, keys_path, small_json)}
    if have_redis:
        out["redis"] = measure_redis(args, folder, json_path)
    return out


def report(d):
    s = d["searchd"]
    mb = lambda kib: f"{kib / 1024:,.0f} MB"
    f = bench.fmt
    b = s["build"]
    lines = ["## A big index: ten million keys", "",
             f"{KEYS:,} keys `key:%012d` with values of 20 to 80 bytes: {b['json'] / 1e6:,.0f} MB of JSON, "
             f"{b['file'] / 1e6:,.0f} MB compiled. searchd's client asks for keys drawn from a million picked "
             "uniformly from the ten million (`searchctl bench --kind keys --keys FILE`), the 3-key runs from a file "
             "as long of the built-in index's keys (the same client work); redis-benchmark for "
             f"`key:__rand_int__` with `-r {KEYS}`. Pinned as above (server on CPU 0, one loop or Redis's one "
             "thread; client on CPU 1), c=50.", "",
             "| what | searchd | redis-server 7.0 | target |", "|---|---|---|---|"]
    r = d.get("redis")
    lines.append(f"| compile (`searchd-index build`), seconds | {f(b['seconds'], 2)} "
                 f"({b['json'] / 1e6 / b['seconds']['median']:,.0f} MB/s of JSON) | — | ≥ 100 MB/s |")
    lines.append(f"| compile, peak RSS | {mb(b['peak']['median'])} ({b['peak']['median'] * 1024 / b['file']:.2f} × "
                 f"the file) | — | ≤ 2 × the file |")
    lines.append(f"| start to first answer, seconds | {f(s['start'], 3)} | "
                 f"{f(r['load'], 2) + ' (RDB load)' if r else '—'} | ≤ 0.3 |")
    m = s["memory"]
    lines.append(f"| after start: RSS / Pss | {mb(m['Rss'])} / {mb(m['Pss'])} | "
                 f"{mb(r['memory']['Rss']) + ' / ' + mb(r['memory']['Pss']) if r else '—'} | |")
    lines.append(f"| after start: private dirty (memory no other process can share) | {mb(m['own'])} | "
                 f"{mb(r['memory']['own']) if r else '—'} | ≤ 64 MB |")
    lines.append(f"| after start: the index mapped with 2 MiB pages (`FilePmdMapped`) | {mb(m.get('FilePmdMapped', 0))} "
                 f"of {mb(m['Rss'])} | — | |")
    a, c = s["shared"]
    lines.append(f"| two daemons on one file: Pss of each | {mb(a['Pss'])}, {mb(c['Pss'])} | — | one copy |")
    for p in (1, 16):
        hits = bench.summary([x["cpu_us"] for x in s[("keys", p)]])
        three = bench.summary([x["cpu_us"] for x in s[("hit3", p)]])
        misses = bench.summary([x["cpu_us"] for x in s[("miss", p)]])
        gets = bench.summary([x["cpu_us"] for x in r[("get", p)]]) if r else None
        lines.append(f"| P={p}: CPU µs per random hit | {f(hits, 2)} ({hits['median'] / three['median']:.2f} × the "
                     f"3-key hit, {f(three, 2)}) | {f(gets, 2)} per GET | ≤ 1.5 × 3-key; ≤ 0.5 × Redis |")
        if gets:
            lines.append(f"| P={p}: searchd hit / Redis GET, CPU | {hits['median'] / gets['median']:.2f} | | ≤ 0.5 |")
        lines.append(f"| P={p}: CPU µs per miss | {f(misses, 2)} | — | |")
        rps = bench.summary([x["rps"] for x in s[("keys", p)]])
        lines.append(f"| P={p}: random hits per second | {f(rps)} | "
                     f"{f(bench.summary([x['rps'] for x in r[('get', p)]])) if r else '—'} | |")
    j = s["json_start"]
    lines.append(f"| JSON to `--index` ({JSON_KEYS:,} keys, {j['file'] / 1e6:,.0f} MB): ready, seconds | "
                 f"{f(j['seconds'], 2)} | — | ≤ 1.0 |")
    lines.append(f"| JSON to `--index`: peak RSS | {mb(j['peak']['median'])} "
                 f"({j['peak']['median'] * 1024 / j['file']:.2f} × the file) | — | ≤ 2 × the file |")
    rl = s["reload"]
    lines.append(f"| reload under load (SIGHUP, the file replaced by rename; 12 s of random hits, 2 loops): "
                 f"failed requests | {rl['errors']} of {rl['requests']:,} | — | 0 |")
    lines.append(f"| reload: private dirty before / peak / after | {mb(rl['before']['own'])} / "
                 f"{mb(rl['peak_own'])} / {mb(rl['after']['own'])} | — | not doubled |")
    lines.append(f"| reload: RSS before / peak / after (old and new mappings both counted while both live) | "
                 f"{mb(rl['before']['Rss'])} / {mb(rl['peak_rss'])} / {mb(rl['after']['Rss'])} | — | |")
    lines += ["", "RSS and Pss count the mapped index's page-cache pages once they are touched (searchd reads "
              "the whole file at start to check its checksum); they are shared and clean: two daemons on one file "
              "halve each one's Pss, and the kernel can drop them under pressure and read them again. What "
              "no other process can share is the private dirty memory (`Private_Dirty` in /proc/PID/smaps_rollup).", ""]
    return lines
