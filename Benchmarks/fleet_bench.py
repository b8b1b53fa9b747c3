"""Behind a balancer: what the PROXY header costs a connection, and what a Prometheus
scrape every second costs the search listeners (part of `bench.py all`; alone:
`bench.py fleet`). Pinned as the rest: searchd on CPU 0 with one loop, the client on CPU 1.
"""

import os
import statistics
import threading
import urllib.request

import bench


def per_connection(args, bins):
    """Server CPU per connection, c=50 per-connection: plain listener vs PROXY listener
    (every connection starting with a v2 header, as HAProxy's send-proxy-v2 sends it)."""
    out = {}

    def run(peer):
        proxy_port = bench.free_port()
        srv = bench.start("searchd", bins, None, True, extra=["--proxy-listen", f"127.0.0.1:{proxy_port}"])
        port = proxy_port if peer == "proxy" else srv.port
        extra = ["--proxy-header"] if peer == "proxy" else []

        def client():
            argv = [f"{bins}/searchctl", "bench", "-p", str(port), "-c", "50", "--duration", str(args.seconds),
                    "--mode", "per-connection", "--json", "--threads", "1", "--bind", bench.PER_CONNECTION_SOURCES,
                    *extra]
            r = bench.json.loads(bench.sh(bench.taskset(1, argv)).strip().splitlines()[-1])
            if r["errors"]:
                raise RuntimeError(f"bench errors: {r['errors']}")
            return r["requests"], r["requests_per_second"], r["latency_us"]
        try:
            return bench.measure(srv, client)
        finally:
            srv.stop()
    for peer, runs in bench.interleaved(args, ["plain", "proxy"], run):
        out[peer] = runs
        print("fleet per-connection", peer, bench.summary([r["cpu_us"] for r in runs]), flush=True)
    return out


def scrape_impact(args, bins):
    """Requests/s at c=50 P=16 keep-alive, with and without GET /metrics every second."""
    out = {}

    def run(peer):
        admin = bench.free_port()
        srv = bench.start("searchd", bins, None, True, extra=["--admin-listen", f"127.0.0.1:{admin}"])
        stop = threading.Event()
        scrapes = []

        def scraper():
            # On the client's CPU: the server's own is for the server (a Prometheus
            # would run on another machine).
            os.sched_setaffinity(0, {1})
            while not stop.wait(1.0):
                with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=5) as r:
                    scrapes.append(len(r.read()))
        thread = threading.Thread(target=scraper, daemon=True)
        if peer == "scraped":
            thread.start()
        try:
            result = bench.measure(srv, lambda: bench.searchctl_bench(bins, srv.port, 50, 16, args.seconds, True))
            result["scrapes"] = len(scrapes)
            return result
        finally:
            stop.set()
            if peer == "scraped":
                thread.join()
            srv.stop()
    for peer, runs in bench.interleaved(args, ["quiet", "scraped"], run):
        out[peer] = runs
        print("fleet scrape", peer, bench.summary([r["rps"] for r in runs]), flush=True)
    return out


def run(args, bins, have_redis):
    return {"per_connection": per_connection(args, bins), "scrape": scrape_impact(args, bins), "runs": args.runs,
            "seconds": args.seconds}


def report(d):
    med = lambda runs, key: statistics.median([r[key] for r in runs])
    pc, sc = d["per_connection"], d["scrape"]
    plain, proxy = med(pc["plain"], "cpu_us"), med(pc["proxy"], "cpu_us")
    quiet, scraped = med(sc["quiet"], "rps"), med(sc["scraped"], "rps")
    # Each round's scraped run against its own quiet one: a drift of the machine between
    # rounds (a third, here) cancels out of the pair.
    pairs = sorted(s["rps"] / q["rps"] - 1 for q, s in zip(sc["quiet"], sc["scraped"]))
    cpu_quiet, cpu_scraped = med(sc["quiet"], "cpu_us"), med(sc["scraped"], "cpu_us")
    return ["## Behind a balancer", "",
            f"`bench.py fleet` ({d['runs']} interleaved runs of {d['seconds']:g} s, medians), pinned as above.", "",
            "| | plain listener | PROXY listener (v2 header per connection) | cost |", "|---|---|---|---|",
            f"| server CPU per connection, c=50 per-connection | {plain:.1f} µs | {proxy:.1f} µs | "
            f"**{(proxy / plain - 1) * 100:+.1f}%** |", "",
            "| c=50 P=16 keep-alive | requests/s | |", "|---|---|---|",
            f"| no scraper | {quiet:,.0f} | |",
            f"| GET /metrics every second | {scraped:,.0f} | **{(scraped / quiet - 1) * 100:+.1f}%** |", "",
            f"Paired by round (scraped against the quiet run of its round): median "
            f"**{statistics.median(pairs) * 100:+.1f}%**, from {pairs[0] * 100:+.1f}% to {pairs[-1] * 100:+.1f}%. "
            f"Server CPU per request: {cpu_quiet:.3f} µs quiet, {cpu_scraped:.3f} µs scraped "
            f"({(cpu_scraped / cpu_quiet - 1) * 100:+.1f}%).", "",
            "The rolling restart of three replicas behind HAProxy is measured by `FleetTests` (0 failed requests; "
            "p99 during the roll against p99 at rest is printed by that test).", ""]
