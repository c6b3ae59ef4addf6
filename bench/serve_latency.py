"""Query latency over HTTP on loopback, beside its floor; throughput at 16 clients; server memory.

    python bench/serve_latency.py [--requests 300] [--concurrent 16]

Serves the real index of the eval corpora (bench/common.py) with `kb serve` and asks it distinct real
questions, so the question cache does not flatter the figures (a last run repeats questions to show
what the cache gives). Each client keeps its connection open, as browsers do; one run opens a new
connection per request, as the figures before 2026-11-27 19:30 did. The floor is what no server can skip:
embedding the question (uncached) plus the FAISS search, in-process, on the same index, timed before the server
starts and again after it stops (timing it in turn with each request slows the server: the two processes' model
threads get in each other's way); the last line gives the ratios against both timings pooled.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from kb.store import Store  # noqa: E402


class Floor:
    """Embedding a question plus the FAISS search, in-process: what no server can skip."""

    def __init__(self, index_dir: Path) -> None:
        from kb.embedding import load_embedder
        from kb.search import Index
        from kb.settings import Settings

        s = Settings.from_env()
        self.embedder = load_embedder(s.model, s.cache_dir, s.runtime)
        self.index = Index(index_dir, self.embedder)
        self.embedder.queries(["прогрев"])

    def ms(self, question: str) -> float:
        from kb.search import CANDIDATES

        started = time.perf_counter()
        self.index.dense(self.embedder.queries([question])[0], CANDIDATES, None)
        return (time.perf_counter() - started) * 1000


def batching(questions: list[str], clients: int) -> None:
    """In-process: ``clients`` threads embedding distinct questions, each calling the model directly vs batched."""
    from kb.embedding import Batcher, load_embedder
    from kb.settings import Settings

    s = Settings.from_env()
    emb = load_embedder(s.model, s.cache_dir, s.runtime)
    for label, one in (("direct model calls", lambda q: emb.queries([q])[0]), ("batched", Batcher(emb.queries))):
        def timed(q: str, one: object = one) -> float:
            started = time.perf_counter()
            one(q)  # type: ignore[operator]
            return (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            ms = list(pool.map(timed, questions))
        rate = len(ms) / (time.perf_counter() - started)
        print(f"question embedding, {clients} threads in-process, {label:18}: {common.summary(ms)}  {rate:.0f}/s")


def run(url: str, route: str, key: str, questions: list[str], clients: int,
        keep_alive: bool = True) -> tuple[list[float], int, float]:
    """Latencies, errors and requests per second of asking every question once with ``clients`` in parallel."""
    started = time.perf_counter()
    if clients == 1:
        results = [common.post(url + route, {key: q}, keep_alive) for q in questions]
    else:
        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(lambda q: common.post(url + route, {key: q}, keep_alive), questions))
    wall = time.perf_counter() - started
    return [ms for ms, _ in results], sum(1 for _, ok in results if not ok), len(results) / wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300, help="per route and client setting")
    ap.add_argument("--concurrent", type=int, default=16)
    args = ap.parse_args()
    print(common.machine())
    index = common.base_index()
    pool = common.questions()
    need = 4 * args.requests + 100 + 400
    if len(pool) < need:
        raise SystemExit(f"need {need} distinct questions, the eval sets have {len(pool)}")
    batches = [pool[i * args.requests:(i + 1) * args.requests] for i in range(4)]
    floor = Floor(index)
    alone = [floor.ms(q) for q in pool[-200:]]
    print(f"floor (embed the question + FAISS search, in-process): {common.summary(alone)}")
    batching(pool[-400:-200], args.concurrent)
    data = common.CACHE / "data-serve"
    shutil.rmtree(data, ignore_errors=True)
    with common.server(common.base_content(), index, data) as srv:
        size = Store(index).counts()["passages"]
        print(f"index: {size} passages (real); start-up with an existing index {srv.startup_s:.1f} s,"
              f" RSS after start-up {common.rss_mb(srv.pid):.0f} MB")
        common.post(srv.url + "/api/ask", {"question": "прогрев"})
        done = 0
        medians: dict[str, float] = {}
        for (route, key), qs in zip((("/api/ask", "question"), ("/api/search", "query")), batches[:2]):
            ms, errors, _ = run(srv.url, route, key, qs, 1)
            done += len(ms)
            medians[route] = statistics.median(ms)
            print(f"{route:11} 1 client:   {common.summary(ms)}  errors {errors}"
                  f"  median/floor {statistics.median(ms) / statistics.median(alone):.2f}x")
        for (route, key), qs in zip((("/api/ask", "question"), ("/api/search", "query")), batches[2:]):
            ms, errors, rps = run(srv.url, route, key, qs, args.concurrent)
            done += len(ms)
            print(f"{route:11} {args.concurrent} clients: {common.summary(ms)}  errors {errors}  {rps:.0f} requests/s")
        ms, errors, _ = run(srv.url, "/api/ask", "question", pool[4 * args.requests:4 * args.requests + 100], 1,
                            keep_alive=False)
        done += len(ms)
        print(f"/api/ask    1 client, a new connection per request: {common.summary(ms)}  errors {errors}")
        repeat = batches[0][:100]
        ms, errors, _ = run(srv.url, "/api/ask", "question", repeat, 1)
        done += len(ms)
        print(f"/api/ask    repeated questions (cached embedding): {common.summary(ms)}  errors {errors}")
        if done < 1000:
            extra = pool[4 * args.requests + 100:4 * args.requests + 100 + 1000 - done]
            done += len(run(srv.url, "/api/ask", "question", extra, args.concurrent)[0])
        print(f"RSS after {done} queries: {common.rss_mb(srv.pid):.0f} MB")
    again = [floor.ms(q) for q in pool[-200:]]
    print(f"floor again after the runs: {common.summary(again)}")
    both = statistics.median(alone + again)
    print(f"the machine drifts over a run: against the floor before and after pooled ({both:.1f} ms), 1 client:"
          + "".join(f"  {route} {m / both:.2f}x" for route, m in medians.items()))


if __name__ == "__main__":
    main()
