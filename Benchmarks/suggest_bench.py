"""Suggestions (issue 25): prefix and typo-tolerant `suggest` on the ten million keys of the
big-index benchmark and on Debian's English word list (wamerican-huge), against PostgreSQL's
pg_trgm on the same words (part of `bench.py all`; alone: `bench.py suggest`).

searchd runs pinned (CPU 0, one loop), its client on CPU 1. CPU per request is the server's
utime+stime over the run divided by the replies. Queries are drawn with a fixed seed: real
words (5 letters or more) with 1 or 2 random edits (a letter inserted, deleted, changed, or
two neighbours swapped), and prefixes of 3 to 8 letters.
"""

import json
import multiprocessing
import os
import random
import struct
import subprocess
import sys
import time

import bench
import big_index

WORDS = "/usr/share/dict/american-english-huge"
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def edited(word, edits, rng):
    s = list(word)
    for _ in range(edits):
        op = rng.randrange(4)
        if op == 0:
            s.insert(rng.randrange(len(s) + 1), rng.choice(LETTERS))
        elif op == 1 and len(s) > 1:
            del s[rng.randrange(len(s))]
        elif op == 2:
            s[rng.randrange(len(s))] = rng.choice(LETTERS)
        elif len(s) > 1:
            i = rng.randrange(len(s) - 1)
            s[i], s[i + 1] = s[i + 1], s[i]
    return "".join(s)


def osa_prefix_distance(text, key, limit):
    """The reference rule (docs/PROTOCOL.md): the least optimal-string-alignment distance from
    `text` to a prefix of `key`, or None above `limit`."""
    m = len(text)
    before, prev = None, list(range(m + 1))
    best = m
    for t in range(1, len(key) + 1):
        row = [t] + [0] * m
        for j in range(1, m + 1):
            d = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (text[j - 1] != key[t - 1]))
            if t >= 2 and j >= 2 and text[j - 1] == key[t - 2] and text[j - 2] == key[t - 1]:
                d = min(d, before[j - 2] + 1)
            row[j] = d
        best = min(best, row[m])
        least = min(row)
        if least >= best or least > limit:
            break
        before, prev = prev, row
    return best if best <= limit else None


def reference_top(text, words, typos, limit=10):
    found = []
    for w in words:
        d = osa_prefix_distance(text, w, typos)
        if d is not None:
            found.append((d, len(w), w.encode(), w))
    found.sort()
    return [f[3] for f in found[:limit]]


def suggest(port, text, typos, limit=10):
    sys.path.insert(0, os.path.join(bench.ROOT, "clients", "python", "src"))
    import searchd
    with searchd.Client("127.0.0.1", port) as c:
        return [s.key for s in c.suggest(text, limit=limit, typos=typos).items]


def bench_run(bins, port, argv_extra, conns, seconds):
    argv = [f"{bins}/searchctl", "bench", "-p", str(port), "-c", str(conns), "--duration", str(seconds), "--json",
            "--threads", "1", *argv_extra]
    out = subprocess.run(bench.taskset(1, argv), text=True, capture_output=True)
    if out.returncode != 0:
        raise RuntimeError(f"{argv}: {out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measured(bins, srv, argv_extra, conns, seconds):
    before = bench.cpu_ticks(srv.proc.pid)
    r = bench_run(bins, srv.port, argv_extra, conns, seconds)
    used = bench.cpu_ticks(srv.proc.pid) - before
    if r["errors"]:
        raise RuntimeError(f"bench errors: {r['errors']}")
    return {"rps": r["requests_per_second"], "cpu_us": used * 1e6 / bench.TICK / max(r["requests"], 1),
            "p50": r["latency_us"]["p50"], "p99": r["latency_us"]["p99"]}


def size_without_suggestions(sdx):
    """The same index as format version 1 wrote it: header, records and bucket table only."""
    with open(sdx, "rb") as f:
        head = f.read(40)
    records_end, buckets = struct.unpack_from("<QQ", head, 24)
    return records_end + buckets * 8


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


def words_json(folder):
    words = sorted({w.strip() for w in open(WORDS, encoding="utf-8") if w.strip() and "'" not in w})
    path = os.path.join(folder, "words.json")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump({w: f"the word {w}" for w in words}, f, ensure_ascii=False)
    return words, path


def run(args, bins, have_redis):
    folder = os.path.join(bench.OUT, "suggest")
    os.makedirs(folder, exist_ok=True)
    big_folder = os.path.join(bench.OUT, "big-index")
    os.makedirs(big_folder, exist_ok=True)
    big_json = os.path.join(big_folder, "big.json")
    big_keys = os.path.join(big_folder, "keys.txt")
    big_index.generate(big_json, big_index.KEYS, big_keys)
    out = {}
    # The file: its size and build speed, against the format without the suggest section.
    sdx = os.path.join(folder, "big.sdx")
    builds = [big_index.timed_run([f"{bins}/searchd-index", "build", big_json, sdx]) for _ in range(args.runs)]
    out["build"] = {"seconds": bench.summary([b[0] for b in builds]), "json": os.path.getsize(big_json),
                    "file": os.path.getsize(sdx), "without": size_without_suggestions(sdx)}
    words, wjson = words_json(folder)
    wsdx = os.path.join(folder, "words.sdx")
    big_index.timed_run([f"{bins}/searchd-index", "build", wjson, wsdx])
    rng = random.Random(25)
    long_words = [w for w in words if len(w) >= 5 and w.isalpha() and w.islower()]
    typo1 = [edited(rng.choice(long_words), 1, rng) for _ in range(20_000)]
    typo2 = [edited(rng.choice(long_words), 2, rng) for _ in range(20_000)]
    prefixes = [w[:rng.randint(3, 8)] for w in (rng.choice(long_words) for _ in range(20_000))]
    big_sample = [line.strip() for line in open(big_keys)][:20_000]
    big_prefixes = [k[:rng.randint(3, 8)] for k in big_sample]
    big_typo1 = [edited(k, 1, rng) for k in big_sample]
    files = {name: write_lines(os.path.join(folder, name + ".txt"), lines) for name, lines in [
        ("typo1", typo1), ("typo2", typo2), ("prefixes", prefixes), ("big-prefixes", big_prefixes),
        ("big-typo1", big_typo1), ("big-hits", big_sample)]}
    runs = {}

    def measure(name, index, extra, conns):
        runs.setdefault(name, [])
        srv = big_index.first_answer(bins, index, "key:000000000005")[1]
        try:
            runs[name].append(measured(bins, srv, extra, conns, args.seconds))
        finally:
            srv.stop()

    for _ in range(args.runs):
        measure("big exact hit, c=50", sdx, ["--kind", "keys", "--keys", files["big-hits"]], 50)
        measure("big prefix (0 typos), c=50", sdx,
                ["--kind", "suggest", "--typos", "0", "--keys", files["big-prefixes"]], 50)
        measure("big 1 typo, c=50", sdx, ["--kind", "suggest", "--typos", "1", "--keys", files["big-typo1"]], 50)
        measure("big 1 typo, c=1", sdx, ["--kind", "suggest", "--typos", "1", "--keys", files["big-typo1"]], 1)
        measure("words prefix (0 typos), c=50", wsdx,
                ["--kind", "suggest", "--typos", "0", "--keys", files["prefixes"]], 50)
        measure("words 1 typo, c=50", wsdx, ["--kind", "suggest", "--typos", "1", "--keys", files["typo1"]], 50)
        measure("words 1 typo, c=1", wsdx, ["--kind", "suggest", "--typos", "1", "--keys", files["typo1"]], 1)
        measure("words 2 typos, c=1", wsdx, ["--kind", "suggest", "--typos", "2", "--keys", files["typo2"]], 1)
        measure("words 2 typos, c=50", wsdx, ["--kind", "suggest", "--typos", "2", "--keys", files["typo2"]], 50)
    out["runs"] = runs
    # The reference's answers (a pass over every word for each query: minutes in Python).
    queries = typo1[:50] + typo2[:50]
    with multiprocessing.Pool(initializer=_share_words, initargs=(words,)) as pool:
        expected = dict(zip(queries, pool.map(_reference_default, queries)))
    out["recall"] = recall(bins, wsdx, expected)
    out["postgres"] = postgres(args, folder, words, typo1, typo2, expected)
    return out


_WORDS = []


def _share_words(words):
    global _WORDS
    _WORDS = words


def _reference_default(text):
    return reference_top(text, _WORDS, default_typos(text))


def default_typos(text):
    return 0 if len(text) < 4 else 1 if len(text) < 8 else 2


def recall_of(expected, answer):
    hits = total = 0
    for q, want in expected.items():
        hits += len(set(answer(q)) & set(want))
        total += len(want)
    return hits / max(total, 1)


def recall(bins, wsdx, expected):
    """recall@10 of searchd's suggest (its default typos) against the reference rule."""
    srv = big_index.first_answer(bins, wsdx, "a")[1]
    try:
        return {"queries": len(expected), "recall": recall_of(expected, lambda q: suggest(srv.port, q, default_typos(q)))}
    finally:
        srv.stop()


def postgres(args, folder, words, typo1, typo2, expected):
    """PostgreSQL 15 from Debian, pg_trgm with a GiST trigram index on the words, `ORDER BY
    key <-> $1 LIMIT 10`, one connection, the backend pinned on CPU 0, the client on CPU 1.
    None when it cannot be run here."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return None
    version = subprocess.run(["sh", "-c", "ls /usr/lib/postgresql | sort -n | tail -1"], text=True,
                             capture_output=True).stdout.strip()
    if not version:
        return None
    return postgres_run(args, folder, version, words, typo1, typo2, expected)


def postgres_run(args, folder, version, words, typo1, typo2, expected):
    import psycopg2
    pgbin = f"/usr/lib/postgresql/{version}/bin"
    data = os.path.join("/tmp", "searchd-bench-pg")
    port = bench.free_port()
    subprocess.run(["rm", "-rf", data])
    os.makedirs(data)
    subprocess.run(["chown", "postgres:postgres", data], check=True)
    pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(pg + [f"{pgbin}/initdb", "-D", data, "-A", "trust", "-U", "postgres"], check=True,
                   capture_output=True)
    server = subprocess.Popen(pg + ["taskset", "-c", "0", f"{pgbin}/postgres", "-D", data, "-p", str(port), "-k",
                                    "/tmp", "-c", "shared_buffers=256MB", "-c", "max_parallel_workers_per_gather=0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                conn = psycopg2.connect(host="/tmp", port=port, user="postgres", dbname="postgres")
                break
            except psycopg2.OperationalError:
                time.sleep(0.1)
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION pg_trgm")
        cur.execute("CREATE TABLE words (key text PRIMARY KEY, value text)")
        cur.executemany("INSERT INTO words VALUES (%s, %s)", [(w, f"the word {w}") for w in words])
        start = time.monotonic()
        cur.execute("CREATE INDEX words_trgm ON words USING gist (key gist_trgm_ops)")
        index_seconds = time.monotonic() - start
        cur.execute("ANALYZE words")
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
        subprocess.run(["taskset", "-pc", "0", str(backend)], capture_output=True)
        query = "SELECT key FROM words ORDER BY key <-> %s LIMIT 10"
        out = {"version": version, "index_seconds": index_seconds}
        for name, queries in (("1 typo", typo1), ("2 typos", typo2)):
            per_run = []
            for _ in range(args.runs):
                before = bench.cpu_ticks(backend)
                start = time.monotonic()
                n = 0
                while time.monotonic() - start < args.seconds:
                    cur.execute(query, (queries[n % len(queries)],))
                    cur.fetchall()
                    n += 1
                elapsed = time.monotonic() - start
                used = bench.cpu_ticks(backend) - before
                per_run.append({"qps": n / elapsed, "cpu_us": used * 1e6 / bench.TICK / max(n, 1)})
            out[name] = per_run
        def answer(q):
            cur.execute(query, (q,))
            return [r[0] for r in cur.fetchall()]

        out["recall"] = recall_of(expected, answer)
        conn.close()
        return out
    finally:
        server.terminate()
        server.wait()


def report(d):
    b = d["build"]
    lines = ["## Suggestions (`suggest`: prefixes and typos, limit 10; pinned as above)", "",
             "The ten million keys of the big-index table (`key:%012d`) and Debian's `wamerican-huge` word list; "
             "queries are real words with 1 or 2 random edits, prefixes of 3 to 8 letters, and the big index's "
             "keys cut to 3-8 characters or with one edit. `searchctl bench --kind suggest --typos N`, every reply "
             "checked to be a suggest reply.", "",
             f"Index build of the ten million keys with the suggest section: {bench.fmt(b['seconds'], 1)} s for "
             f"{b['json'] / 1e6:,.0f} MB of JSON ({b['json'] / 1e6 / b['seconds']['median']:,.0f} MB/s), a file of "
             f"{b['file'] / 1e6:,.0f} MB: {b['file'] / b['without']:.2f} × the {b['without'] / 1e6:,.0f} MB of the "
             "same index without the suggest and node sections (format version 1).", "",
             "| what | requests/s | server CPU µs/request | p50 µs | p99 µs |", "|---|---|---|---|---|"]
    for name, runs in d["runs"].items():
        lines.append(f"| {name} | {bench.fmt(bench.summary([r['rps'] for r in runs]))} | "
                     f"{bench.fmt(bench.summary([r['cpu_us'] for r in runs]), 2)} | "
                     f"{bench.fmt(bench.summary([r['p50'] for r in runs]))} | "
                     f"{bench.fmt(bench.summary([r['p99'] for r in runs]))} |")
    runs = d["runs"]

    def med(name, key):
        return bench.summary([r[key] for r in runs[name]])["median"]

    lines += ["", "| target | measured | target |", "|---|---|---|",
              f"| prefix CPU / exact hit CPU, ten million keys | "
              f"{med('big prefix (0 typos), c=50', 'cpu_us') / med('big exact hit, c=50', 'cpu_us'):.2f} | ≤ 3 |",
              f"| one typo p99 at c=1, ten million keys | {med('big 1 typo, c=1', 'p99'):,.0f} µs | ≤ 1,000 µs |",
              f"| one typo suggestions/s on one loop at c=50, ten million keys | "
              f"{med('big 1 typo, c=50', 'rps'):,.0f} | ≥ 20,000 |",
              f"| two typos p99 at c=1, word list | {med('words 2 typos, c=1', 'p99'):,.0f} µs | ≤ 10,000 µs |",
              f"| index build, ten million keys | {b['json'] / 1e6 / b['seconds']['median']:,.0f} MB/s of JSON | "
              "≥ 60 MB/s |",
              f"| file size against format version 1 | {b['file'] / b['without']:.2f} × | ≤ 1.3 × |"]
    r = d["recall"]
    lines += ["", f"recall@10 against the brute-force reference rule over {r['queries']} typed words: searchd "
              f"{r['recall']:.3f}."]
    pg = d.get("postgres")
    if pg:
        lines += ["", f"PostgreSQL {pg['version']} with pg_trgm (GiST trigram index on the words, built in "
                  f"{pg['index_seconds']:.1f} s; `ORDER BY key <-> $1 LIMIT 10`, one connection, backend pinned): "
                  f"recall@10 {pg['recall']:.3f} against the same reference.", "",
                  "| typed | PostgreSQL queries/s | PostgreSQL CPU µs/query | searchd CPU µs/request | "
                  "searchd / PostgreSQL queries per core-second |", "|---|---|---|---|---|"]
        for name, ours in (("1 typo", "words 1 typo, c=50"), ("2 typos", "words 2 typos, c=50")):
            p = pg[name]
            pcpu = bench.summary([x["cpu_us"] for x in p])
            mine = med(ours, "cpu_us") if ours else None
            ratio = f"{pcpu['median'] / mine:,.0f} ×" if mine else "—"
            lines.append(f"| {name} | {bench.fmt(bench.summary([x['qps'] for x in p]))} | {bench.fmt(pcpu)} | "
                         f"{mine and f'{mine:.2f}' or '—'} | {ratio} |")
    else:
        lines += ["", "PostgreSQL was not measured: install `postgresql`, `postgresql-contrib` and "
                  "`python3-psycopg2` (`make bench` does)."]
    return lines
