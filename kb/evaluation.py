"""Measure retrieval and answers on a question set with gold sections (see ../shared/eval/README.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.answer import CONFIDENT_FROM, Answer, answer
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
    kind: str = "answerable"  # answerable, near_miss or out_of_base (sales-ru); other sets are all answerable
    client: str = ""
    lang: str = ""


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
    kinds: dict[str, dict[str, float]] = field(default_factory=dict)  # by_kind(), for sets whose questions have kinds
    english: dict[str, dict[str, float]] = field(default_factory=dict)  # the same for English questions alone
    wrong_client: int = 0  # confident answers about one client taken from another client's card
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
        if self.kinds:
            out.update({"kinds": self.kinds, "english": self.english, "wrong_client": self.wrong_client})
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
                            q.get("squad_id", ""), q.get("kind") or "answerable", q.get("client") or "",
                            q.get("lang", "")))
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


_QUOTES = str.maketrans({c: " " for c in "«»\"“”„'`*"})


def normalized(text: str) -> str:
    """Text as answers are compared: lower case, ё as е, no quotes or emphasis marks, single spaces."""
    return " ".join(text.lower().replace("ё", "е").translate(_QUOTES).split())


def answer_hits(text: str, q: Question) -> bool:
    """The answer contains a gold span (XQuAD, sales-ru), or overlaps the gold answer by half its words (FAQ).

    Spans are compared without case, ё/е, quotes, ``**`` and extra spaces.
    """
    if not text:
        return False
    low = text.lower()
    if q.spans:
        got = normalized(text)
        return any(normalized(s) in got for s in q.spans if normalized(s))
    if not q.answer:
        return False
    gold = set(_WORDS.findall(q.answer.lower()))
    got_words = set(_WORDS.findall(low))
    return q.answer.lower().strip() in low or low.strip() in q.answer.lower() or (
        bool(gold) and len(gold & got_words) / len(gold) >= 0.5
    )


def said(a: Answer) -> str:
    """How sure the answer is, in the service's three words: refused, unsure ("check the source") or confident."""
    if not a.answered:
        return "refused"
    return "confident" if a.confidence >= CONFIDENT_FROM else "unsure"


def _share(rows: list[dict[str, Any]], test: Callable[[dict[str, Any]], bool]) -> float:
    return round(sum(1 for r in rows if test(r)) / len(rows), 4) if rows else 0.0


def by_kind(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per kind of question: answerable ones correct and confident, correct at all, first source in the gold
    section, wrong and confident, refused; near-miss and out-of-base ones safe (refused or "check the source")
    and confident."""
    out: dict[str, dict[str, float]] = {}
    for kind in ("answerable", "near_miss", "out_of_base"):
        group = [r for r in rows if r["kind"] == kind]
        if not group:
            continue
        if kind == "answerable":
            out[kind] = {
                "n": len(group),
                "correct_confident": _share(group, lambda r: r["answer_hit"] and r["said"] == "confident"),
                "correct": _share(group, lambda r: r["answer_hit"] and r["said"] != "refused"),
                "first_in_gold": _share(group, lambda r: r["first_in_gold"]),
                "wrong_confident": _share(group, lambda r: not r["answer_hit"] and r["said"] == "confident"),
                "refused": _share(group, lambda r: r["said"] == "refused"),
            }
        else:
            out[kind] = {"n": len(group), "safe": _share(group, lambda r: r["said"] != "confident"),
                         "confident": _share(group, lambda r: r["said"] == "confident")}
    return out


def evaluate(
    index: Index,
    questions: list[Question],
    mode: Mode = "hybrid",
    negatives: list[Question] | None = None,
    progress: Callable[[int], None] | None = None,
) -> EvalResult:
    """Ask every question; gold is matched on (file, own heading) as the eval README defines.

    Retrieval is scored on the questions with gold sections; a set whose questions have kinds
    (answerable, near_miss, out_of_base) is also scored per kind, per kind for English questions alone,
    and for confident answers about one client taken from another client's card.
    """
    res = EvalResult(n=sum(1 for q in questions if q.gold))
    ks = (1, 5, 10)
    found = {k: 0 for k in ks}
    mrr = 0.0
    hits_ok = refused = 0
    qvecs = index.embedder.queries([q.question for q in questions]) if mode != "keyword" else None
    client_of = {d.path: d.client for d in index.store.documents() if d.type == "client"}
    for i, q in enumerate(questions):
        qvec = qvecs[i] if qvecs is not None else None
        ranking = index.retrieve(q.question, k=10, mode=mode, qvec=qvec)
        ranked = ranking.hits
        rank = next((r for r, h in enumerate(ranked, 1) if (h.path, h.heading) in q.gold), 0)
        if q.gold:
            for k in ks:
                found[k] += 1 if 0 < rank <= k else 0
            mrr += 1.0 / rank if rank else 0.0
        if mode == "hybrid":  # answers always come from the full pipeline; ablations measure retrieval only
            a = answer(index, q.question, qvec=qvec, ranking=ranking)
            hit = answer_hits(a.span, q) if a.answered else False
            top = a.sources[0].path if a.sources else ""
            in_gold = bool(a.sources) and (a.sources[0].path, a.sources[0].heading) in q.gold
            if q.gold:
                hits_ok += hit
                refused += not a.answered
            res.rows.append({"id": q.id, "kind": q.kind, "lang": q.lang, "client": q.client, "rank": rank,
                             "answer_hit": hit, "answered": a.answered, "said": said(a),
                             "confidence": a.confidence, "in_base": bool(q.gold), "answer": a.answer or "",
                             "source": top, "first_in_gold": in_gold, "resolved": a.client,
                             "other_client": bool(q.client) and client_of.get(top, q.client) != q.client,
                             **a.features})
        if progress:
            progress(1)
    n = max(res.n, 1)
    res.recall_at = {k: found[k] / n for k in ks}
    res.mrr10 = mrr / n
    res.answer_hit = hits_ok / n
    res.refused = refused / n
    first = [r["answered"] for r in res.rows if r["rank"] == 1]
    res.answered_first = sum(first) / len(first) if first else 0.0
    if any(q.kind != "answerable" for q in questions) and res.rows:
        res.kinds = by_kind(res.rows)
        res.english = by_kind([r for r in res.rows if r["lang"] == "en"])
        res.wrong_client = sum(1 for r in res.rows if r["said"] == "confident" and r["other_client"])
    if negatives and mode == "hybrid":
        nvecs = index.embedder.queries([q.question for q in negatives])
        ood_refused = 0
        for i, q in enumerate(negatives):
            a = answer(index, q.question, qvec=nvecs[i])
            ood_refused += not a.answered
            res.rows.append({"id": q.id, "kind": "out_of_base", "lang": q.lang, "client": "", "rank": 0,
                             "answer_hit": False, "answered": a.answered, "said": said(a),
                             "confidence": a.confidence, "in_base": False, **a.features})
            if progress:
                progress(1)
        res.ood_n = len(negatives)
        res.ood_refused = ood_refused / len(negatives)
    return res
