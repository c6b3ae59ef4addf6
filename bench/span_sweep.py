"""How the answer span is chosen: the lexical weight and the join tolerance of kb.answer.best_span.

    python bench/span_sweep.py ../shared/eval [--per-set 300] [--sets xquad-ru,xquad-en,fedora-faq-ru]

For the questions whose gold section ranks first (hybrid retrieval), the answer-hit rate (the chosen
span contains a gold answer) when spans are scored by their stored vectors (each span embedded with its
heading path at ingest) plus a weight times the rarity-weighted share of the question's words the span
holds, and a short best span takes the next one when that scores within a tolerance.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from kb.answer import coverage
from kb.embedding import load_embedder
from kb.evaluation import answer_hits, load_questions
from kb.ingest import ingest
from kb.search import Index
from kb.settings import Settings
from kb.spans import MAX_SPAN_CHARS, spans

WEIGHTS = (0.0, 0.01, 0.02, 0.05, 0.1)
JOINS = (0.0, 0.005, 0.01, 0.02)  # a short best span takes the next one when that scores within this much


def chosen(texts: list[str], scores: np.ndarray, join: float) -> str:
    best = int(np.argmax(scores))
    span = texts[best]
    nxt = best + 1
    if join and nxt < len(texts) and len(span) < 100 and len(span) + 1 + len(texts[nxt]) <= MAX_SPAN_CHARS:
        if scores[nxt] >= scores[best] - join:
            span = f"{span} {texts[nxt]}"
    return span


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("--per-set", type=int, default=300)
    ap.add_argument("--sets", default="xquad-ru,xquad-en,fedora-faq-ru")
    ap.add_argument("--index-root", type=Path, default=Path("/tmp/kb-eval"))
    args = ap.parse_args()
    s = Settings.from_env()
    emb = load_embedder(s.model, s.cache_dir, s.runtime)
    keys = [(m, w, j) for m in ("stored",) for w in WEIGHTS for j in JOINS]
    print("answer-hit by method @ lexical weight / join tolerance")
    for name in args.sets.split(","):
        idx_dir = args.index_root / name
        ingest(args.eval_dir / name / "corpus", idx_dir, emb, max_file_bytes=s.max_file_bytes,
               chunk_tokens=s.chunk_tokens)
        index = Index(idx_dir, emb)
        qs = load_questions(args.eval_dir / name)[: args.per_set]
        qvecs = emb.queries([q.question for q in qs])
        hits = {k: 0 for k in keys}
        n = 0
        for q, qvec in zip(qs, qvecs):
            ranked = index.search(q.question, k=1, qvec=qvec)
            if not ranked or (ranked[0].path, ranked[0].heading) not in q.gold:
                continue
            hit = ranked[0]
            units = spans(hit.text)
            stored = index.store.span_vectors(hit.id)
            if not units or stored is None:
                continue
            n += 1
            texts = [u.text for u in units]
            lexical = np.array([coverage(index, q.question, t) for t in texts])
            for method, vecs in (("stored", stored),):
                for w in WEIGHTS:
                    for j in JOINS:
                        hits[(method, w, j)] += answer_hits(chosen(texts, vecs @ qvec + w * lexical, j), q)
        print(f"{name} ({n} questions whose gold section ranks first):")
        for m in ("stored",):
            print(f"  {m:9}" + "".join(f"  {w}/{j}: {hits[(m, w, j)] / max(n, 1):.3f}" for w in WEIGHTS for j in JOINS),
                  flush=True)


if __name__ == "__main__":
    main()
