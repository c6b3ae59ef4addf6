"""When kb answers and when it refuses, per kind of question, with the shipped confidence model.

    python bench/refusal_groups.py ../shared/eval [--index-root /tmp/kb-eval] [--work /tmp/kb-refusal]

Kinds of question, per set:
- in-base, first-ranked: the gold section ranks first; asked in the corpus's language, and (XQuAD, aligned
  by squad_id) in the other language. These should be answered.
- out-of-base: another set's questions (as `make eval`), on another topic altogether. These should be refused.
- near-miss: the corpus with a random half of its gold sections cut out (seed 7), asked the questions about a
  cut section: the topic is still there, the answer is not. These should be refused too; they are the
  hard case (a client the base knows, a fact it lacks). In the FAQ set some cut sections have a near
  duplicate left, so part of its near-miss questions can still be answered rightly.
Prints, for each group, the share refused, answered as "check the source", and answered as confident, and
the share of the answers given whose text holds the gold answer (for near-miss questions: the cut section's).
The indexes are those `make eval` builds; the near-miss copies are re-ingested from them (vectors reused).
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import numpy as np
from eval_all import NEGATIVES

from kb.answer import CONFIDENT_FROM, answer
from kb.embedding import Embedder, load_embedder
from kb.errors import BadInput
from kb.evaluation import Question, align, answer_hits, load_questions
from kb.ingest import ingest
from kb.markdown import parse
from kb.search import Index
from kb.settings import Settings

OTHER_LANGUAGE = {"xquad-ru": "xquad-en", "xquad-en": "xquad-ru"}


def cut(text: str, path: str, heading: str) -> str:
    """``text`` without the section under ``heading``, its subsections included (as kb's parser reads it)."""
    drop = {n for sec in parse(text, path, check_type=False).sections if heading in sec.heading_path
            for n in range(sec.start_line, sec.end_line + 1)}
    return "".join(line for n, line in enumerate(text.splitlines(keepends=True), 1) if n not in drop)


def has_text(text: str, path: str) -> bool:
    try:
        return any(sec.blocks for sec in parse(text, path, check_type=False).sections)
    except BadInput:
        return False


def holed(corpus: Path, index: Path, cut_out: set[tuple[str, str]], work: Path, emb: Embedder, s: Settings) -> Index:
    """A copy of the set's index, re-ingested from a copy of its corpus with the ``cut_out`` sections removed."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(corpus, work / "corpus")
    shutil.copytree(index, work / "index")
    by_file: dict[str, list[str]] = {}
    for file, heading in cut_out:
        by_file.setdefault(file, []).append(heading)
    for file, headings in by_file.items():
        path = work / "corpus" / file
        text = path.read_text("utf-8")
        for heading in headings:
            text = cut(text, file, heading)
        if has_text(text, file):
            path.write_text(text, "utf-8")
        else:
            path.unlink()  # nothing left to index: the document goes
    ingest(work / "corpus", work / "index", emb, max_file_bytes=s.max_file_bytes, chunk_tokens=s.chunk_tokens)
    return Index(work / "index", emb)


def confidences(index: Index, emb: Embedder, qs: list[Question], first_only: bool) -> list[tuple[float, bool]]:
    """Each answer's confidence (-1 when refused) and whether its text holds the gold answer anyway; only the
    questions whose gold section ranks first, if asked."""
    out = []
    for q, v in zip(qs, emb.queries([q.question for q in qs])):
        a = answer(index, q.question, qvec=v)
        if first_only and not (a.sources and (a.sources[0].path, a.sources[0].heading) in q.gold):
            continue
        out.append((a.confidence if a.answered else -1.0, a.answered and answer_hits(a.span, q)))
    return out


def line(label: str, said: list[tuple[float, bool]]) -> str:
    c = np.array([conf for conf, _ in said])
    refused, confident = float(np.mean(c < 0)), float(np.mean(c >= CONFIDENT_FROM))
    right = sum(hit for _, hit in said) / max(1, int(np.sum(c >= 0)))
    return (f"{label:48} n={len(c):5}  refused {refused:.3f}  check the source {1 - refused - confident:.3f}"
            f"  confident {confident:.3f}  (answers holding the gold answer {right:.2f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", type=Path)
    ap.add_argument("--index-root", type=Path, default=Path("/tmp/kb-eval"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/kb-refusal"))
    args = ap.parse_args()
    s = Settings.from_env()
    emb = load_embedder(s.model, s.cache_dir, s.runtime)
    rng = random.Random(7)
    for name in NEGATIVES:
        index = Index(args.index_root / name, emb)
        own = load_questions(args.eval_dir / name)
        asked = [(name[-2:], own)]
        if name in OTHER_LANGUAGE:
            asked.append((OTHER_LANGUAGE[name][-2:], align(load_questions(args.eval_dir / OTHER_LANGUAGE[name]), own)))
        for lang, qs in asked:
            print(line(f"{name} in-base, first-ranked, asked in {lang}", confidences(index, emb, qs, True)), flush=True)
        others = [q for n in NEGATIVES[name] for q in load_questions(args.eval_dir / n)]
        print(line(f"{name} out-of-base ({', '.join(NEGATIVES[name])})", confidences(index, emb, others, False)))
        golds = sorted({g for q in own for g in q.gold})
        cut_out = set(rng.sample(golds, len(golds) // 2))
        near = holed(args.eval_dir / name / "corpus", args.index_root / name, cut_out, args.work / name, emb, s)
        for lang, qs in asked:
            gone = [q for q in qs if set(q.gold) <= cut_out]
            print(line(f"{name} near-miss, asked in {lang}", confidences(near, emb, gone, False)), flush=True)


if __name__ == "__main__":
    main()
