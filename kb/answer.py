"""Answer a question: the best passages, the sentence of the best one that answers, and a confidence."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kb.markdown import split_sentences
from kb.search import Filters, Hit, Index, Ranking
from kb.text import content_stems, script, terms

MAX_ANSWER_CHARS = 300
SOURCES = 5
# Logistic model over retrieval and answer features, fitted by bench/calibrate.py on ../shared/eval
# (in-base questions whose gold section ranks first as positives, other sets' questions as negatives).
WEIGHTS = {"dense": -17.89, "margin": 61.273, "agree": -0.002, "sentence": 54.45, "coverage": 13.367, "cross": 4.74}
BIAS = -35.703
# Chosen on bench/calibration.txt: at 0.6, 86-96% of first-ranked in-base answers (same language and
# cross-lingual) are given and 96-99% of out-of-base questions refused. A wrong answer said with
# confidence costs more than a refusal, so the threshold leans toward refusing.
REFUSE_BELOW = 0.6
CONFIDENT_FROM = 0.85

_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+|^\s*>\s?|^#+\s+")
_CLAUSE = re.compile(r"(?<=[;:,—–])\s+")


@dataclass(frozen=True)
class Answer:
    """What kb says to a question, and from where."""

    answered: bool
    answer: str | None
    confidence: float
    sources: list[Hit]
    owner: str = ""
    features: dict[str, float] = field(default_factory=dict)
    span: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "answered": self.answered,
            "answer": self.answer,
            "confidence": self.confidence,
            "sources": [h.as_dict() for h in self.sources],
            "owner": self.owner,
        }


def _units(text: str) -> list[str]:
    """Candidate answer spans of a passage: sentences, list items, table rows; each a verbatim substring."""
    out: list[str] = []
    for line in text.splitlines():
        if not line.strip() or set(line.strip()) <= set("|-: "):
            continue
        body = _MARKER.sub("", line).replace("**", "").replace("`", "").strip()
        for sentence in split_sentences(body):
            if len(sentence) <= MAX_ANSWER_CHARS:
                out.append(sentence)
                continue
            window = ""
            for clause in _CLAUSE.split(sentence):
                if window and len(window) + 1 + len(clause) > MAX_ANSWER_CHARS:
                    out.append(window)
                    window = ""
                window = f"{window} {clause}".strip() if window else clause
            if window:
                out.append(window[:MAX_ANSWER_CHARS])
    return out


def best_span(index: Index, qvec: np.ndarray, hit: Hit) -> tuple[str, float]:
    """The span of ``hit`` closest in meaning to the question, with its similarity."""
    units = _units(hit.text)
    if not units:
        return hit.text[:MAX_ANSWER_CHARS], 0.0
    context = " > ".join(hit.heading_path)
    vecs = index.embedder.passages([f"{context}\n{u}" for u in units])
    sims = vecs @ qvec
    best = int(np.argmax(sims))
    span = units[best]
    nxt = best + 1
    if nxt < len(units) and len(span) < 100 and len(span) + 1 + len(units[nxt]) <= MAX_ANSWER_CHARS:
        if sims[nxt] >= sims[best] - 0.02:
            span = f"{span} {units[nxt]}"
    return span, float(sims[best])


def coverage(index: Index, question: str, hit: Hit) -> float:
    """The share of the question's topic words, weighted by rarity, found in the passage or its headings.

    A rare word of the question that the passage lacks ("NPS", a client the base never heard of)
    is strong evidence that the passage does not answer it.
    """
    wanted = content_stems(question)
    if not wanted:
        return 1.0
    have = set(terms(" ".join([hit.title, *hit.heading_path, hit.text])))
    weights = {t: index.idf(t) for t in wanted}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in have) / total if total > 0 else 1.0


def features(index: Index, ranking: Ranking, sentence: float, question: str) -> dict[str, float]:
    """The numbers confidence is computed from."""
    top = ranking.hits[0]
    second = max((s for pid, s in ranking.dense.items() if pid != top.id), default=top.dense)
    keyword = sorted(ranking.keyword, key=lambda pid: -ranking.keyword[pid])[:3]
    return {
        "dense": top.dense,
        "margin": top.dense - second,
        "agree": 1.0 if top.id in keyword else 0.0,
        "sentence": sentence,
        "coverage": coverage(index, question, top),
        "cross": 1.0 if script(question) != script(top.text) else 0.0,
    }


def confidence(feats: dict[str, float]) -> float:
    z = BIAS + sum(WEIGHTS[k] * feats[k] for k in WEIGHTS)
    return round(1.0 / (1.0 + math.exp(-z)), 4)


def answer(index: Index, question: str, filters: Filters | None = None, qvec: np.ndarray | None = None,
           ranking: Ranking | None = None) -> Answer:
    """Answer from the best passage, or refuse when the confidence is below the calibrated threshold.

    A ``ranking`` already retrieved for this question (with these filters) is reused, not fetched again.
    """
    filters = filters or Filters()
    qvec = index.embedder.query(question) if qvec is None else qvec
    ranking = ranking or index.retrieve(question, k=SOURCES, filters=filters, qvec=qvec)
    hits = ranking.hits[:SOURCES]
    if not hits:
        return Answer(False, None, 0.0, [], features={})
    span, sim = best_span(index, qvec, hits[0])
    feats = features(index, ranking, sim, question)
    conf = confidence(feats)
    answered = conf >= REFUSE_BELOW
    return Answer(answered, span if answered else None, conf, hits, hits[0].owner, feats, span)
