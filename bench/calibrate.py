"""Fit the answer-confidence model on the eval sets and print the weights to put in kb/answer.py.

    python bench/calibrate.py ../shared/eval [--per-set 400]

Positives: in-base questions whose gold section ranks first. Negatives: questions of another
set asked against this set's corpus (xquad-ru and xquad-en share paragraphs, so they are never
each other's negatives). A logistic regression over kb.answer.features is fitted by Newton's method.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from kb import answer as answer_mod
from kb.embedding import load_embedder
from kb.evaluation import align, load_questions
from kb.ingest import ingest
from kb.search import Index
from kb.settings import Settings

NEGATIVES = {
    "fedora-faq-ru": ["xquad-ru", "xquad-en"],
    "xquad-ru": ["fedora-faq-ru"],
    "xquad-en": ["fedora-faq-ru"],
}
# Cross-lingual positives: these sets' questions against the corpus of the key, aligned by squad_id.
CROSS = {"xquad-ru": "xquad-en", "xquad-en": "xquad-ru"}


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 50) -> np.ndarray:
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + l2 * w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("--index-root", type=Path, default=Path("/tmp/kb-eval"))
    ap.add_argument("--per-set", type=int, default=400)
    args = ap.parse_args()
    s = Settings.from_env()
    emb = load_embedder(s.model, s.cache_dir, s.runtime)
    rng = random.Random(7)
    names = list(answer_mod.WEIGHTS)
    rows: list[tuple[str, list[float], int]] = []
    for name, negs in NEGATIVES.items():
        idx_dir = args.index_root / name
        ingest(args.eval_dir / name / "corpus", idx_dir, emb, max_file_bytes=s.max_file_bytes,
               chunk_tokens=s.chunk_tokens)
        index = Index(idx_dir, emb)
        own = load_questions(args.eval_dir / name)
        own = rng.sample(own, min(args.per_set, len(own)))
        if name in CROSS:
            cross = align(load_questions(args.eval_dir / CROSS[name]), load_questions(args.eval_dir / name))
            own += rng.sample(cross, min(args.per_set // 2, len(cross)))
        others = [q for n in negs for q in load_questions(args.eval_dir / n)]
        others = rng.sample(others, min(args.per_set, len(others)))
        for label, qs in ((1, own), (0, others)):
            vecs = emb.queries([q.question for q in qs])
            for q, v in zip(qs, vecs):
                a = answer_mod.answer(index, q.question, qvec=v)
                if label == 1 and not (a.sources and (a.sources[0].path, a.sources[0].heading) in q.gold):
                    continue
                rows.append((name, [a.features[k] for k in names], label))
        print(f"{name}: {sum(1 for r in rows if r[0] == name)} rows", flush=True)
    x = np.array([r[1] for r in rows])
    y = np.array([r[2] for r in rows], dtype=float)
    w = fit(x, y)
    z = np.hstack([x, np.ones((len(x), 1))]) @ w
    p = 1 / (1 + np.exp(-z))
    print("WEIGHTS =", {k: round(float(v), 3) for k, v in zip(names, w[:-1])})
    print("BIAS =", round(float(w[-1]), 3))
    worst: dict[float, float] = {}
    for t in np.round(np.arange(0.2, 0.85, 0.05), 2):
        for name in NEGATIVES:
            m = np.array([r[0] == name for r in rows])
            pos, neg = p[m & (y == 1)], p[m & (y == 0)]
            answered, refused = float(np.mean(pos >= t)), float(np.mean(neg < t))
            worst[t] = min(worst.get(t, 1.0), answered, refused)
            print(f"threshold {t:.2f} {name:14} answered(pos) {answered:.3f}  refused(ood) {refused:.3f}")
    best = max(worst, key=lambda t: (worst[t], t))
    print(f"threshold with the best worst case over sets: {best:.2f} (worst answered/refused rate {worst[best]:.3f})")


if __name__ == "__main__":
    main()
