"""The Python client (clients/python) against redis-py on redis-server (part of `bench.py
all`; alone: `bench.py python-client`).

Pinned as the rest: the server on CPU 0 with one loop (Redis is single-threaded), the
client, one Python thread, on CPU 1. Four ways of asking, each for searchd's client and
redis-py: blocking one at a time (`search` / `GET`), blocking 16 pipelined (`search_many`
of 16 / a pipeline of 16 GETs), and the same two with asyncio. The figure is requests
answered per second by the client process; runs interleave searchd and Redis.

Run as a script, it is one client run: `python_client.py searchd|redis PORT MODE DEPTH SECONDS`.
"""

import asyncio
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = [("blocking", 1), ("blocking", 16), ("asyncio", 1), ("asyncio", 16)]


def client_run(target, port, mode, depth, seconds):
    """Requests per second for one client, one thread, for `seconds`."""
    if target == "searchd":
        sys.path.insert(0, os.path.join(ROOT, "clients", "python", "src"))
        import searchd

        if mode == "blocking":
            c = searchd.Client("127.0.0.1", port)
            ask = (lambda: c.search("morpheus")) if depth == 1 else (lambda: c.search_many(["morpheus"] * depth))
            check = lambda got: got == "Follow the white rabbit. \U0001F430" or got == [  # noqa: E731
                "Follow the white rabbit. \U0001F430"] * depth
        else:
            c = searchd.AsyncClient("127.0.0.1", port)
            ask = (lambda: c.search("morpheus")) if depth == 1 else (lambda: c.search_many(["morpheus"] * depth))
            check = None
    else:
        import redis
        import redis.asyncio

        if mode == "blocking":
            c = redis.Redis(port=port)
            c.set("morpheus", "Follow the white rabbit. \U0001F430")
            if depth == 1:
                ask = lambda: c.get("morpheus")  # noqa: E731
            else:
                def ask():
                    p = c.pipeline(transaction=False)
                    for _ in range(depth):
                        p.get("morpheus")
                    return p.execute()
            check = None
        else:
            c = redis.asyncio.Redis(port=port)
            if depth == 1:
                ask = lambda: c.get("morpheus")  # noqa: E731
            else:
                async def ask():
                    p = c.pipeline(transaction=False)
                    for _ in range(depth):
                        p.get("morpheus")
                    return await p.execute()
            check = None
    if mode == "blocking":
        assert check is None or check(ask()), "a wrong answer"
        ask()
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(50):
                ask()
            done += 50 * depth
        return done / (time.perf_counter() - start)

    async def main():
        if target == "redis":
            await c.set("morpheus", "Follow the white rabbit. \U0001F430")
        await ask()
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(50):
                await ask()
            done += 50 * depth
        return done / (time.perf_counter() - start)

    return asyncio.run(main())


def have_redis_py():
    try:
        import redis  # noqa: F401
        return True
    except ImportError:
        return False


def run(args, bins, have_redis):
    import bench

    if not have_redis or not have_redis_py():
        return None
    results = {}
    for mode, depth in MODES:
        def one(peer):
            srv = bench.start(peer, bins, None, pinned=True)
            try:
                out = bench.sh(bench.taskset(1, [sys.executable, os.path.abspath(__file__), peer, str(srv.port), mode,
                                                 str(depth), str(args.seconds)]))
                return json.loads(out)["rps"]
            finally:
                srv.stop()

        for peer, runs in bench.interleaved(args, ["searchd", "redis"], one):
            results[(mode, depth, peer)] = runs
    import redis
    return {"runs": results, "redis_py": redis.__version__}


def report(result):
    if result is None:
        return ["## The Python client against redis-py", "",
                "redis-server or redis-py was not installed, so this section is missing from this run."]
    runs = result["runs"]
    lines = ["## The Python client against redis-py (one client thread, pinned)", "",
             f"`clients/python` (standard library only) against redis-py {result['redis_py']} on redis-server, "
             "the server on CPU 0, the client on CPU 1; requests answered per second, median (min–max) of the "
             "runs. A search that hits against a GET of a key of the same value. Target: at least 1.0 × redis-py "
             "in every row.", "",
             "| client | in flight | searchd client requests/s | redis-py requests/s | ratio |",
             "|---|---|---|---|---|"]
    for mode, depth in MODES:
        ours, theirs = runs[(mode, depth, "searchd")], runs[(mode, depth, "redis")]
        a, b = statistics.median(ours), statistics.median(theirs)
        lines.append(f"| {mode} | {depth} | {a:,.0f} ({min(ours):,.0f}–{max(ours):,.0f}) | "
                     f"{b:,.0f} ({min(theirs):,.0f}–{max(theirs):,.0f}) | {a / b:.2f} |")
    return lines


if __name__ == "__main__":
    target, port, mode, depth, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(
        sys.argv[5])
    print(json.dumps({"rps": client_run(target, port, mode, depth, seconds)}))
