"""Several kb servers on one PostgreSQL: one server against two on this machine, and how soon a reindex is served.

    python bench/cluster.py [--requests 300] [--concurrent 8] [--reindexes 5]

Starts a real PostgreSQL 15 (tests/pgserver.py) and `kb serve` processes (tests/cluster.py), each with its own
index folder, on the real index of the eval corpora (bench/common.py), published once as generation 1 (the servers
load it; nothing is embedded again). Asks distinct real questions (/api/ask) with ``--concurrent`` clients, each
client keeping its connection to one server (as a load balancer's kept-alive upstream connections do): first all
to one server, then half to each of two. Then edits a document, reindexes through the first server and times
"reindex answered" to "every server serves the new generation" (each server's /healthz polled every 10 ms).
Both servers share this machine's cores, so two do not double what one does here: the figure says what a second
server costs and gives on one machine; on two machines each has its own cores.
"""

from __future__ import annotations

import argparse
import queue
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402

from tests.cluster import KbServer, call  # noqa: E402
from tests.pgserver import PgServer  # noqa: E402


def load(servers: list[KbServer], questions: list[str], clients: int) -> tuple[list[float], int, float]:
    """Latencies (ms), errors and requests per second; client ``i`` keeps to server ``i % len(servers)``."""
    todo: queue.Queue[str] = queue.Queue()
    for q in questions:
        todo.put(q)
    ms: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(i: int) -> None:
        nonlocal errors
        url = servers[i % len(servers)].url + "/api/ask"
        while True:
            try:
                q = todo.get_nowait()
            except queue.Empty:
                return
            took, ok = common.post(url, {"question": q})
            with lock:
                ms.append(took)
                errors += not ok

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ms, errors, len(ms) / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300, help="questions per setting")
    ap.add_argument("--concurrent", type=int, default=8)
    ap.add_argument("--reindexes", type=int, default=5)
    args = ap.parse_args()
    print(common.machine())
    pool = common.questions()
    if len(pool) < 2 * args.requests + 20:
        raise SystemExit(f"need {2 * args.requests + 20} distinct questions, the eval sets have {len(pool)}")
    tmp = Path(tempfile.mkdtemp(prefix="kb-cluster-bench-"))
    content = tmp / "content"
    shutil.copytree(common.base_content(), content)
    base = common.base_index()
    pg = PgServer()
    servers: list[KbServer] = []
    try:
        url = pg.database()
        first = KbServer("one", tmp, content, url)
        (tmp / "one").mkdir()
        shutil.copytree(base, tmp / "one" / "index")  # built before the database was shared: published at start
        started = time.perf_counter()
        servers.append(first.start())
        print(f"server one: publishes the existing index as generation {first.generation()} and starts in"
              f" {time.perf_counter() - started:.1f} s")
        second = KbServer("two", tmp, content, url)
        started = time.perf_counter()
        servers.append(second.start())
        print(f"server two: loads generation {second.generation()} from PostgreSQL (no embedding) and starts in"
              f" {time.perf_counter() - started:.1f} s")
        for server in servers:
            for q in pool[-20:]:  # warm both
                common.post(server.url + "/api/ask", {"question": q})
        rates = {}
        for label, group, questions in (("one server ", servers[:1], pool[:args.requests]),
                                        ("two servers", servers, pool[args.requests:2 * args.requests])):
            ms, errors, rps = load(group, questions, args.concurrent)
            rates[label] = rps
            print(f"{label}, {args.concurrent} clients: {common.summary(ms)}  errors {errors}  {rps:.1f} requests/s")
        print(f"two servers / one server, requests/s: {rates['two servers'] / rates['one server ']:.2f}x"
              " (one machine: both servers share its cores)")

        lags: list[float] = []
        done_s: list[float] = []
        card = next(iter(sorted(content.rglob("*.md"))))
        for n in range(args.reindexes):
            card.write_text(card.read_text(encoding="utf-8") + f"\n\n## Bench {n}\n\nПроверка поколения {n}.\n",
                            encoding="utf-8")
            started = time.perf_counter()
            status, report = call(first.url + "/api/reindex", {}, timeout=300)
            done = time.perf_counter()
            assert status == 200, report
            newest = first.generation()
            seen = {first.name: 0.0}
            while len(seen) < len(servers):
                for server in servers:
                    if server.name not in seen and server.generation() == newest:
                        seen[server.name] = time.perf_counter() - done
                time.sleep(0.01)
            done_s.append(done - started)
            lags.append(max(seen.values()))
        print(f"reindex of one changed document through server one: median {statistics.median(done_s):.2f} s;"
              f" then every server serves it after median {statistics.median(lags) * 1000:.0f} ms"
              f" (max {max(lags) * 1000:.0f} ms, n={len(lags)})")
    finally:
        for server in servers:
            server.stop()
        pg.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
