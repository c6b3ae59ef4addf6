"""Answer a question: the best passages, the sentence of the best one that answers, and a confidence."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kb.chunking import Chunk
from kb.search import Filters, Hit, Index, Ranking, Vector
from kb.spans import MAX_SPAN_CHARS as MAX_ANSWER_CHARS
from kb.spans import spans
from kb.text import content_stems, learn, script, terms

SOURCES = 5
# Logistic model over retrieval and answer features, fitted by bench/calibrate.py on ../shared/eval
# (in-base questions whose gold section ranks first as positives, other sets' questions as negatives).
WEIGHTS = {"dense": -18.948, "margin": 62.729, "agree": 0.19, "sentence": 52.091, "coverage": 12.231, "cross": 4.959,
           "missing": -3.601}
BIAS = -29.576
# Chosen on bench/calibration.txt: at 0.40, 91-97% of first-ranked in-base answers (same language and
# cross-lingual) are given and 94-96% of out-of-base questions refused on every set. Every threshold
# from 0.30 to 0.40 gives the 90% of both; a wrong answer said with confidence costs more than
# a refusal, so the choice leans toward refusing while keeping a point of margin on answering.
REFUSE_BELOW = 0.40
CONFIDENT_FROM = 0.85

# How much the share of the question's rare words a span holds adds to its similarity
# (bench/span_sweep.py: 0, 0.02, 0.05 and 0.1 measured on fedora-faq-ru, xquad-ru and xquad-en).
LEXICAL_WEIGHT = 0.05


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
    client: str = ""  # the client the question was understood to be about

    def as_dict(self) -> dict[str, Any]:
        return {
            "answered": self.answered,
            "answer": self.answer,
            "confidence": self.confidence,
            "sources": [h.as_dict() for h in self.sources],
            "owner": self.owner,
        }


def best_span(index: Index, qvec: np.ndarray, hit: Hit, question: str = "") -> tuple[str, float]:
    """The span of ``hit`` that answers the question, with its similarity to the question.

    Each span (with its heading path) was embedded at ingest; a span's score adds the rarity-weighted
    share of the question's words it holds.
    """
    units = spans(hit.text)
    if not units:
        return hit.text[:MAX_ANSWER_CHARS], 0.0
    vecs = index.span_vectors_of([hit.id]).get(hit.id)
    if vecs is None or len(vecs) != len(units):  # not stored (cannot happen after a complete ingest)
        context = " > ".join(hit.heading_path)
        vecs = index.embedder.passages([f"{context}\n{u.text}" for u in units])
    sims = vecs @ qvec
    wanted = _rarity(index, question)
    scores = sims + LEXICAL_WEIGHT * np.array([_share(wanted, u.text) for u in units])
    best = int(np.argmax(scores))
    span = units[best].text
    nxt = best + 1
    if nxt < len(units) and len(span) < 100 and len(span) + 1 + len(units[nxt].text) <= MAX_ANSWER_CHARS:
        if scores[nxt] >= scores[best] - 0.02:
            span = f"{span} {units[nxt].text}"
    return span, float(sims[best])


def coverage(index: Index, question: str, text: str) -> float:
    """The share of the question's topic words, weighted by rarity, found in the passage or its headings.

    A rare word of the question that the passage lacks ("NPS", a client the base never heard of)
    is strong evidence that the passage does not answer it.
    """
    return _share(_rarity(index, question), text)


def _rarity(index: Index, question: str) -> dict[str, float]:
    """The question's topic words, each weighted by its rarity in the index."""
    return {t: index.idf(t) for t in content_stems(question)}


def _share(weights: dict[str, float], text: str) -> float:
    """The rarity-weighted share of the question's topic words that ``text`` holds (1.0 when it has none)."""
    total = sum(weights.values())
    if not weights or total <= 0:
        return 1.0
    have = set(terms(text))
    return sum(w for t, w in weights.items() if t in have) / total


def missing(index: Index, question: str, text: str) -> float:
    """How rare the rarest question word the passage lacks is: 0 when it lacks none, 1 for a word the index never saw.

    A name or term no passage holds ("NPS", a client kb has no card for) is the plainest sign of a
    question the knowledge base cannot answer.
    """
    have = set(terms(text))
    absent = [index.idf(t) for t in content_stems(question) if t not in have]
    return max(absent) / index.idf("\0never") if absent else 0.0


def features(index: Index, ranking: Ranking, sentence: float, question: str) -> dict[str, float]:
    """The numbers confidence is computed from."""
    top = ranking.hits[0]
    context = " ".join([top.title, *top.heading_path, top.text])
    second = max((s for pid, s in ranking.dense.items() if pid != top.id), default=top.dense)
    keyword = sorted(ranking.keyword, key=lambda pid: -ranking.keyword[pid])[:3]
    return {
        "dense": top.dense,
        "margin": top.dense - second,
        "agree": 1.0 if top.id in keyword else 0.0,
        "sentence": sentence,
        "coverage": coverage(index, question, context),
        "missing": missing(index, question, context),
        "cross": 1.0 if script(question) != script(top.text) else 0.0,
    }


def confidence(feats: dict[str, float]) -> float:
    z = BIAS + sum(WEIGHTS[k] * feats[k] for k in WEIGHTS)
    return round(1.0 / (1.0 + math.exp(-z)), 4)


def answer(index: Index, question: str, filters: Filters | None = None, qvec: Vector | None = None,
           ranking: Ranking | None = None) -> Answer:
    """Answer from the best passage, or refuse when the confidence is below the calibrated threshold.

    A ``ranking`` already retrieved for this question (with these filters) is reused, not fetched again.
    """
    filters = filters or Filters()
    ranking = ranking or index.retrieve(question, k=SOURCES, filters=filters, qvec=qvec)
    if ranking.qvec is not None:
        qvec = ranking.qvec
    elif qvec is None:
        qvec = index.embedder.query(question)
    elif callable(qvec):
        qvec = qvec()
    hits = ranking.hits[:SOURCES]
    if not hits:
        return Answer(False, None, 0.0, [], features={})
    top = hits[0]
    learn(Chunk("", top.heading, top.heading_path, top.text, 0, 0).embed_text(top.title), index.store.terms_of(top.id))
    span, sim = best_span(index, qvec, top, question)
    feats = features(index, ranking, sim, question)
    conf = confidence(feats)
    answered = conf >= REFUSE_BELOW
    return Answer(answered, span if answered else None, conf, hits, hits[0].owner, feats, span)
