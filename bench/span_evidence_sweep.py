"""Sweep ways of adding span-level dense evidence to hybrid retrieval, loading each index and candidate list once.

    python bench/span_evidence_sweep.py ../shared/eval [--index-root /tmp/kb-eval] [--cache /tmp/kb-sweep]

Each passage's span vectors (a sentence, list item or table row with its heading path, made at ingest)
are compared with the question; the best span's cosine is blended into the fused score in several ways.
Prints section recall@1/5/10 and MRR@10 per set (and cross-lingual pairs) for every variant.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kb import search
from kb.embedding import load_embedder
from kb.evaluation import Question, align, load_questions
from kb.search import Index
from kb.settings import Settings
from kb.text import fts_query

Scores = dict[int, float]
Variant = Callable[[np.ndarray, Scores, Scores, float, dict[int, float], dict[int, float]], Scores]


def metrics(ranks: list[int]) -> tuple[float, float, float, float]:
    r = np.array(ranks)
    hit = r > 0
    return (float(np.mean(hit & (r <= 1))), float(np.mean(hit & (r <= 5))), float(np.mean(hit & (r <= 10))),
            float(np.mean(np.where(hit & (r <= 10), 1.0 / np.maximum(r, 1), 0.0))))


def all_span_vectors(index: Index) -> dict[int, np.ndarray]:
    dim = index.embedder.dim
    rows = index.store.conn.execute("SELECT p.id, v.spans FROM passages p JOIN vectors v ON v.key = p.key")
    return {int(pid): np.frombuffer(b, dtype=np.float16).reshape(-1, dim).astype(np.float32)
            for pid, b in rows if b is not None}


def base(qv: np.ndarray, dense: Scores, kw: Scores, ceil: float, sm: Scores, pc: Scores) -> Scores:
    return search.fuse(dense, kw, "hybrid", ceil)


def add(w: float, top: int = 0) -> Variant:
    """Fused score plus ``w`` x the best span cosine (only the ``top`` fused candidates when top > 0)."""

    def f(qv: np.ndarray, dense: Scores, kw: Scores, ceil: float, sm: Scores, pc: Scores) -> Scores:
        fused = search.fuse(dense, kw, "hybrid", ceil)
        keep = set(sorted(fused, key=lambda p: -fused[p])[:top]) if top else set(fused)
        low = min(sm[p] for p in keep)
        return {p: v + w * (sm[p] if p in keep else low) for p, v in fused.items()}

    return f


def mix(a: float, how: str = "mix", exact: bool = False) -> Variant:
    """The dense side replaced: (1-a) passage + a span ("mix"), or max of the two ("max"), before fusion."""

    def f(qv: np.ndarray, dense: Scores, kw: Scores, ceil: float, sm: Scores, pc: Scores) -> Scores:
        ids = set(dense) | set(kw) if exact else set(dense)
        if how == "max":
            d = {p: max(pc[p], sm[p]) for p in ids}
        else:
            d = {p: (1 - a) * pc[p] + a * sm[p] for p in ids}
        return search.fuse(d, kw, "hybrid", ceil)

    return f


def top2(a: float) -> Variant:
    """Like mix, with the mean of the two best spans' cosines."""

    def f(qv: np.ndarray, dense: Scores, kw: Scores, ceil: float, sm: Scores, pc: Scores) -> Scores:
        return search.fuse({p: (1 - a) * pc[p] + a * SM2[id(sm)][p] for p in dense}, kw, "hybrid", ceil)

    return f


def keyword_weight(w: float, inner: Variant | None = None) -> Variant:
    def f(qv: np.ndarray, dense: Scores, kw: Scores, ceil: float, sm: Scores, pc: Scores) -> Scores:
        old, search.KEYWORD_WEIGHT = search.KEYWORD_WEIGHT, w
        try:
            return (inner or base)(qv, dense, kw, ceil, sm, pc)
        finally:
            search.KEYWORD_WEIGHT = old

    return f


def prf(b: float, k: int = 3) -> Variant:
    """Pseudo-relevance feedback: the question vector moved toward the first fused passages, dense re-scored."""

    def f(qv: np.ndarray, dense: Scores, kw: Scores, ceil: float, sm: Scores, pc: Scores) -> Scores:
        fused = search.fuse(dense, kw, "hybrid", ceil)
        top = sorted(fused, key=lambda p: -fused[p])[:k]
        q2 = qv + b * np.mean([PVEC[p] for p in top], axis=0)
        q2 /= np.linalg.norm(q2)
        return search.fuse({p: float(PVEC[p] @ q2) for p in dense}, kw, "hybrid", ceil)

    return f


SM2: dict[int, Scores] = {}
PVEC: dict[int, np.ndarray] = {}


def exact_only(qv: np.ndarray, dense: Scores, kw: Scores, ceil: float, sm: Scores, pc: Scores) -> Scores:
    """Keyword-only candidates get their true passage cosine instead of the dense floor."""
    return search.fuse({p: pc[p] for p in set(dense) | set(kw)}, kw, "hybrid", ceil)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("--index-root", type=Path, default=Path("/tmp/kb-eval"))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kb-sweep"))
    ap.add_argument("--runs", nargs="*", default=["fedora-faq-ru", "xquad-ru", "xquad-en", "xquad-en>xquad-ru",
                                                   "xquad-ru>xquad-en"])
    ap.add_argument("--doc-weights", nargs="*", type=float, default=[search.DOCUMENT_WEIGHT])
    ap.add_argument("--variants", default="")
    ap.add_argument("--grid", action="store_true")
    args = ap.parse_args()
    s = Settings.from_env()
    emb = load_embedder(s.model, s.cache_dir)
    args.cache.mkdir(parents=True, exist_ok=True)

    variants: dict[str, Variant] = {"base": base, "exact-kw-cos": exact_only, "max": mix(0, "max")}
    for w in (0.25, 0.5, 1.0, 2.0):
        variants[f"add w={w}"] = add(w)
    for w in (0.5, 1.0):
        variants[f"add w={w} top20"] = add(w, 20)
    for a in (0.25, 0.5, 0.75, 1.0):
        variants[f"mix a={a}"] = mix(a)
        variants[f"mix a={a} exact"] = mix(a, exact=True)
    for a in (0.25, 0.5):
        variants[f"top2 a={a}"] = top2(a)
    for w in (1.5, 1.75, 2.5):
        variants[f"kw={w}"] = keyword_weight(w)
        variants[f"kw={w} mix a=0.5"] = keyword_weight(w, mix(0.5))
    for b in (0.2, 0.5):
        variants[f"prf b={b}"] = prf(b)
    if args.grid:
        variants = {"base": base}
        for a in (0.3, 0.4, 0.5, 0.6):
            for w in (1.25, 1.5, 1.75, 2.0):
                variants[f"mix a={a} kw={w}"] = keyword_weight(w, mix(a))
        for w in (0.4, 0.5, 0.6, 0.75):
            variants[f"add w={w}"] = add(w)
    if args.variants:
        variants = {k: v for k, v in variants.items() if any(x in k for x in args.variants.split(","))
                    or k == "base"}

    out: list[dict[str, object]] = []
    for run in args.runs:
        qset, _, corpus = run.partition(">")
        corpus = corpus or qset
        index = Index(args.index_root / corpus, emb)
        qs: list[Question] = load_questions(args.eval_dir / qset)
        if corpus != qset:
            qs = align(qs, load_questions(args.eval_dir / corpus))
        cache = args.cache / f"qv-{qset}.npy"
        if cache.exists():
            qv = np.load(cache)
        else:
            qv = emb.queries([q.question for q in qs])
            np.save(cache, qv)
        spans = all_span_vectors(index)
        ids, vecs = index.store.vectors()
        pvec = dict(zip(ids.tolist(), vecs))
        PVEC.clear()
        PVEC.update(pvec)
        SM2.clear()
        cands = []
        for q, v in zip(qs, qv):
            dense = index.dense(v, search.CANDIDATES, None)
            kw = dict(index.store.keyword(fts_query(q.question), search.CANDIDATES))
            pids = set(dense) | set(kw)
            sm = {p: float(np.max(spans[p] @ v)) if p in spans and len(spans[p]) else float(pvec[p] @ v)
                  for p in pids}
            pc = {p: float(pvec[p] @ v) for p in pids}
            SM2[id(sm)] = {p: float(np.mean(np.sort(spans[p] @ v)[-2:])) if p in spans and len(spans[p]) else pc[p]
                           for p in pids}
            cands.append((v, dense, kw, index.keyword_ceiling(q.question), sm, pc))
        rows = index.store.passages({p for c in cands for p in c[4]})
        doc_of = {p: r.path for p, r in rows.items()}
        section_of: dict[int, object] = {p: (r.path, r.heading_path) for p, r in rows.items()}
        for dw in args.doc_weights:
            search.DOCUMENT_WEIGHT = dw
            for label, f in variants.items():
                ranks = []
                for q, c in zip(qs, cands):
                    fused = search.with_document_evidence(f(*c), doc_of)
                    order = [p for p, _ in search.best_per_section(fused, section_of, 10)]
                    ranks.append(next((r for r, p in enumerate(order, 1)
                                       if (rows[p].path, rows[p].heading) in q.gold), 0))
                m = metrics(ranks)
                name = f"{label} d={dw}"
                print(f"{run:20} {name:28} r@1 {m[0]:.3f} r@5 {m[1]:.3f} r@10 {m[2]:.3f} mrr {m[3]:.3f}", flush=True)
                out.append({"run": run, "variant": name, "r1": m[0], "r5": m[1], "r10": m[2], "mrr": m[3],
                            "ranks": ranks})
    (args.cache / "results.jsonl").open("a").write("".join(json.dumps(r) + "\n" for r in out))


if __name__ == "__main__":
    main()
