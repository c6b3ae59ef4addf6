"""Measure retrieval and answers on a question set with gold sections (see ../shared/eval/README.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.answer import answer
from kb.errors import BadInput
from kb.search import Index, Mode

_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Question:
    """One question of a set and where its answer is."""

    id: str
    question: str
    gold: tuple[tuple[str, str], ...]
    spans: tuple[str, ...] = ()
    answer: str = ""
    squad_id: str = ""


@dataclass
class EvalResult:
    """Section-level retrieval metrics, answer quality and refusals for one run."""

    n: int = 0
    recall_at: dict[int, float] = field(default_factory=dict)
    mrr10: float = 0.0
    answer_hit: float = 0.0
    refused: float = 0.0
    answered_first: float = 0.0  # of the in-base questions whose gold section ranks first, the share answered
    ood_n: int = 0
    ood_refused: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n}
        out.update({f"recall@{k}": round(v, 4) for k, v in self.recall_at.items()})
        out["mrr@10"] = round(self.mrr10, 4)
        if self.rows:
            out.update({"answer_hit": round(self.answer_hit, 4), "refused": round(self.refused, 4),
                        "answered@1": round(self.answered_first, 4)})
        if self.ood_n:
            out.update({"ood_n": self.ood_n, "ood_refused": round(self.ood_refused, 4)})
        return out


def load_questions(set_dir: Path) -> list[Question]:
    path = set_dir / "questions.jsonl"
    if not path.is_file():
        raise BadInput(f"{set_dir} has no questions.jsonl")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        gold = tuple((g["file"], g["heading"]) for g in q.get("gold_sections", []))
        out.append(Question(q.get("id", ""), q["question"], gold, tuple(q.get("answers") or ()), q.get("answer", ""),
                            q.get("squad_id", "")))
    return out


def align(questions: list[Question], corpus_questions: list[Question]) -> list[Question]:
    """Questions asked against another language's corpus: gold sections and spans from the aligned set."""
    by_id = {q.squad_id: q for q in corpus_questions if q.squad_id}
    out = []
    for q in questions:
        other = by_id.get(q.squad_id)
        if other is None:
            raise BadInput(f"question {q.id} has no counterpart (squad_id) in the corpus' set")
        out.append(Question(q.id, q.question, other.gold, other.spans, other.answer, q.squad_id))
    return out


def answer_hits(text: str, q: Question) -> bool:
    """The answer contains a gold span (XQuAD), or overlaps the gold answer by half its words (FAQ)."""
    if not text:
        return False
    low = text.lower()
    if q.spans:
        return any(s.lower().strip() in low for s in q.spans if s.strip())
    if not q.answer:
        return False
    gold = set(_WORDS.findall(q.answer.lower()))
    got = set(_WORDS.findall(low))
    return q.answer.lower().strip() in low or low.strip() in q.answer.lower() or (
        bool(gold) and len(gold & got) / len(gold) >= 0.5
    )


def evaluate(
    index: Index,
    questions: list[Question],
    mode: Mode = "hybrid",
    negatives: list[Question] | None = None,
    progress: Callable[[int], None] | None = None,
) -> EvalResult:
    """Ask every question; gold is matched on (file, own heading) as the eval README defines."""
    res = EvalResult(n=len(questions))
    ks = (1, 5, 10)
    found = {k: 0 for k in ks}
    mrr = 0.0
    hits_ok = refused = 0
    qvecs = index.embedder.queries([q.question for q in questions]) if mode != "keyword" else None
    for i, q in enumerate(questions):
        qvec = qvecs[i] if qvecs is not None else None
        ranking = index.retrieve(q.question, k=10, mode=mode, qvec=qvec)
        ranked = ranking.hits
        rank = next((r for r, h in enumerate(ranked, 1) if (h.path, h.heading) in q.gold), 0)
        for k in ks:
            found[k] += 1 if 0 < rank <= k else 0
        mrr += 1.0 / rank if rank else 0.0
        if mode == "hybrid":  # answers always come from the full pipeline; ablations measure retrieval only
            a = answer(index, q.question, qvec=qvec, ranking=ranking)
            hit = answer_hits(a.span, q)
            hits_ok += hit
            refused += not a.answered
            res.rows.append({"id": q.id, "rank": rank, "answer_hit": hit, "answered": a.answered,
                             "confidence": a.confidence, "in_base": True, **a.features})
        if progress:
            progress(1)
    n = max(len(questions), 1)
    res.recall_at = {k: found[k] / n for k in ks}
    res.mrr10 = mrr / n
    res.answer_hit = hits_ok / n
    res.refused = refused / n
    first = [r["answered"] for r in res.rows if r["rank"] == 1]
    res.answered_first = sum(first) / len(first) if first else 0.0
    if negatives and mode == "hybrid":
        nvecs = index.embedder.queries([q.question for q in negatives])
        ood_refused = 0
        for i, q in enumerate(negatives):
            a = answer(index, q.question, qvec=nvecs[i])
            ood_refused += not a.answered
            res.rows.append({"id": q.id, "rank": 0, "answer_hit": False, "answered": a.answered,
                             "confidence": a.confidence, "in_base": False, **a.features})
            if progress:
                progress(1)
        res.ood_n = len(negatives)
        res.ood_refused = ood_refused / len(negatives)
    return res
