"""Query latency, memory and start-up as the knowledge base grows: about 1k, 10k and 100k passages.

    python bench/scale.py [--sizes 1000,10000,100000] [--requests 200]

The real eval corpora give about 1,700 passages; past that, passages are copies with perturbed vectors
(bench/common.py `scaled_index`): embedding 100k passages would take hours on 2 cores and its cost is
linear, so the copies measure search, memory and start-up, not the model. Exact FAISS search is compared
with HNSW (recall@10 against exact, real question vectors) on every real embedding the eval corpora give
(passages and answer spans) and on the largest size's perturbed copies.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from kb.embedding import load_embedder  # noqa: E402
from kb.search import (  # noqa: E402
    CANDIDATES,
    EXACT_UP_TO,
    HNSW_EF_CONSTRUCTION,
    HNSW_M,
    Index,
    vector_index,
)
from kb.settings import Settings  # noqa: E402
from kb.store import Store  # noqa: E402


def recall_table(label: str, ids: np.ndarray, vecs: np.ndarray, qvecs: np.ndarray,
                 efs: tuple[int, ...] = (128, 256, 512)) -> None:
    """Exact search against kb's HNSW settings on the same vectors: latency and recall@10 per efSearch."""
    exact = faiss.IndexIDMap2(faiss.IndexFlatIP(vecs.shape[1]))
    exact.add_with_ids(vecs, ids)
    exact_ms: list[float] = []
    truth = []
    for q in qvecs:
        started = time.perf_counter()
        _, found = exact.search(q.reshape(1, -1), 10)
        exact_ms.append((time.perf_counter() - started) * 1000)
        truth.append(set(found[0].tolist()))
    started = time.perf_counter()
    approx = vector_index(vecs.shape[1], EXACT_UP_TO + 1)  # the approximate index kb builds past the limit
    approx.add_with_ids(vecs, ids)
    hnsw = faiss.downcast_index(approx.index)
    assert isinstance(hnsw, faiss.IndexHNSWFlat)
    build = time.perf_counter() - started
    print(f"  {label}, {len(ids):,} vectors, {len(qvecs)} questions:"
          f" exact IndexFlatIP search median {statistics.median(exact_ms):.2f} ms; HNSW built in {build:.1f} s")
    for ef in efs:
        hnsw.hnsw.efSearch = ef
        ms = []
        recall = 0.0
        for q, want in zip(qvecs, truth):
            started = time.perf_counter()
            _, found = approx.search(q.reshape(1, -1), 10)
            ms.append((time.perf_counter() - started) * 1000)
            recall += len(want & set(found[0].tolist())) / 10
        print(f"    HNSW M={HNSW_M} efConstruction {HNSW_EF_CONSTRUCTION} efSearch {ef:3}:"
              f" search median {statistics.median(ms):.2f} ms, recall@10 vs exact {recall / len(qvecs):.4f}")


def real_vectors(base: Path) -> tuple[np.ndarray, np.ndarray]:
    """Every real embedding the bench index holds: passage vectors and their answer spans' vectors."""
    store = Store(base)
    _, passages = store.vectors()
    dim = passages.shape[1]
    spans = [np.frombuffer(r[0], dtype=np.float16).reshape(-1, dim).astype(np.float32)
             for r in store.conn.execute("SELECT spans FROM vectors WHERE spans IS NOT NULL")]
    vecs = np.ascontiguousarray(np.vstack([passages, *spans]), dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return np.arange(len(vecs), dtype=np.int64), vecs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(common.machine())
    base = common.base_index()
    content = common.base_content()
    pool = common.questions()
    s = Settings.from_env()
    emb = load_embedder(s.model, s.cache_dir, s.runtime)
    qvecs = emb.queries(pool[-200:])
    print(f"{'passages':>9} {'build':>7} {'open':>6} {'floor ms':>9} {'start-up':>9} {'RSS start':>10} "
          f"{'ask median/p95':>15} {'search median/p95':>18} {'RSS after':>10}  note")
    print("HNSW against exact search on real embeddings (model outputs, no copies):")
    recall_table("real passage and answer-span vectors of the eval corpora", *real_vectors(base), qvecs)
    for n, size in enumerate(sizes):
        out = common.CACHE / f"scale-{size}"
        started = time.perf_counter()
        real = common.scaled_index(base, size, out)
        build = time.perf_counter() - started
        started = time.perf_counter()
        index = Index(out, emb)
        opened = time.perf_counter() - started
        floor = []
        for text in pool[-200:]:
            t = time.perf_counter()
            index.dense(emb.queries([text])[0], CANDIDATES, None)
            floor.append((time.perf_counter() - t) * 1000)
        data = common.CACHE / "data-scale"
        shutil.rmtree(data, ignore_errors=True)
        with common.server(content, out, data) as srv:
            rss_start = common.rss_mb(srv.pid)
            common.post(srv.url + "/api/ask", {"question": "прогрев"})
            qs = pool[n * 2 * args.requests:(n * 2 + 2) * args.requests]
            ask = [common.post(srv.url + "/api/ask", {"question": q})[0] for q in qs[: args.requests]]
            search = [common.post(srv.url + "/api/search", {"query": q})[0] for q in qs[args.requests:]]
            rss_after = common.rss_mb(srv.pid)
        note = "real passages" if real <= 1800 else "real + perturbed copies"
        print(f"{real:>9} {build:>6.1f}s {opened:>5.2f}s {statistics.median(floor):>9.1f} {srv.startup_s:>8.1f}s"
              f" {rss_start:>8.0f}MB {statistics.median(ask):>7.1f}/{common.pct(ask, 95):<7.1f}"
              f" {statistics.median(search):>9.1f}/{common.pct(search, 95):<8.1f} {rss_after:>8.0f}MB  {note}",
              flush=True)
        if n == len(sizes) - 1:
            recall_table("perturbed copies", *index.store.vectors(), qvecs)
        del index
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
