"""Sweep fusion settings on the eval sets, loading each index and the candidate lists once.

    python bench/fusion_sweep.py ../shared/eval [--index-root /tmp/kb-eval]

Prints section recall@1/5/10 and MRR@10 per set for dense, keyword and each fusion setting.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np

from kb import search
from kb.embedding import load_embedder
from kb.evaluation import Question, load_questions
from kb.ingest import ingest
from kb.search import Index
from kb.settings import Settings
from kb.store import PassageRow
from kb.text import fts_query


def metrics(ranks: list[int]) -> tuple[float, float, float, float]:
    r = np.array(ranks)
    hit = r > 0
    return (float(np.mean(hit & (r <= 1))), float(np.mean(hit & (r <= 5))), float(np.mean(hit & (r <= 10))),
            float(np.mean(np.where(hit & (r <= 10), 1.0 / np.maximum(r, 1), 0.0))))


def gold_ranks(qs: list[Question], rows: dict[int, PassageRow], fused_list: list[dict[int, float]],
               doc: bool = False) -> list[int]:
    """Rank of the gold section in each fused list (0: not in the top 10)."""
    doc_of = {p: r.path for p, r in rows.items()}
    section_of: dict[int, object] = {p: (r.path, r.heading_path) for p, r in rows.items()}
    out = []
    for q, fused in zip(qs, fused_list):
        if doc:
            fused = search.with_document_evidence(fused, doc_of)
        order = [p for p, _ in search.best_per_section(fused, section_of, 10)]
        out.append(next((r for r, p in enumerate(order, 1) if (rows[p].path, rows[p].heading) in q.gold), 0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("--index-root", type=Path, default=Path("/tmp/kb-eval"))
    ap.add_argument("--sets", nargs="*", default=["fedora-faq-ru", "xquad-ru", "xquad-en"])
    args = ap.parse_args()
    s = Settings.from_env()
    emb = load_embedder(s.model, s.cache_dir, s.runtime)
    weights = [0.0, 1.0, 1.5, 2.0, 3.0, 4.0]
    for name in args.sets:
        set_dir = args.eval_dir / name
        idx_dir = args.index_root / name
        ingest(set_dir / "corpus", idx_dir, emb, max_file_bytes=s.max_file_bytes, chunk_tokens=s.chunk_tokens)
        index = Index(idx_dir, emb)
        qs = load_questions(set_dir)
        qv = emb.queries([q.question for q in qs])
        cands = []
        for q, v in zip(qs, qv):
            dense = index.dense(v, search.CANDIDATES, None)
            kw = dict(index.store.keyword(fts_query(q.question), search.CANDIDATES))
            cands.append((dense, kw, index.keyword_ceiling(q.question)))
        ids = {pid for d, k, _ in cands for pid in (*d, *k)}
        rows = index.store.passages(ids)

        ranks = functools.partial(gold_ranks, qs, rows)
        report = {"dense": ranks([d for d, _, _ in cands]), "keyword": ranks([k for _, k, _ in cands])}
        for w in weights:
            search.KEYWORD_WEIGHT = w
            report[f"w={w}"] = ranks([search.fuse(d, k, "hybrid", c) for d, k, c in cands])
        for dw in (0.1, 0.2, 0.3, 0.5):
            search.DOCUMENT_WEIGHT = dw
            for w in (1.5, 2.0, 3.0):
                search.KEYWORD_WEIGHT = w
                report[f"w={w},d={dw}"] = ranks([search.fuse(d, k, "hybrid", c) for d, k, c in cands], doc=True)
        for label, r in report.items():
            print(f"{name:14} {label:10} r@1 {metrics(r)[0]:.3f} r@5 {metrics(r)[1]:.3f} "
                  f"r@10 {metrics(r)[2]:.3f} mrr {metrics(r)[3]:.3f}", flush=True)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
