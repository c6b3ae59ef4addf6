"""Knowledge gaps: questions kb refused, was unsure about or answered unhelpfully, grouped by meaning,
assigned to the owner of the nearest documents, and answered by a new section in the content."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np

from kb.datastore import GapRow
from kb.store import DocumentRow
from kb.text import script

# Mean cosine (client and product names masked) from which a question joins a group. Measured in
# tests/test_gaps.py on 25 questions with 13 meanings: paraphrases from 0.851, different questions for the
# same client or product up to 0.848. A narrow margin: when unsure kb splits a gap rather than merge two.
SIMILAR_FROM = 0.85
REASONS = ("refused", "uncertain", "unhelpful")
_NEAREST_WEIGHTS = (3, 2, 1)


@dataclass(frozen=True)
class Gap:
    """Questions that ask the same thing kb does not know well, for one client (or none)."""

    id: int
    question: str
    examples: tuple[str, ...]
    count: int
    client: str
    topic: str
    topic_path: str
    owner: str
    reason: str
    reasons: dict[str, int] = field(default_factory=dict)
    first_seen: float = 0.0
    last_seen: float = 0.0
    answered: bool = False
    answer_path: str = ""
    answer_anchor: str = ""
    row_ids: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "question": self.question, "examples": list(self.examples), "count": self.count,
                "client": self.client, "topic": self.topic, "topic_path": self.topic_path, "owner": self.owner,
                "reason": self.reason, "reasons": dict(self.reasons), "first_seen": self.first_seen,
                "last_seen": self.last_seen, "status": "answered" if self.answered else "open",
                "answer_path": self.answer_path, "answer_anchor": self.answer_anchor}


def cluster(vecs: np.ndarray, signatures: Sequence[frozenset[str]], threshold: float = SIMILAR_FROM) -> list[list[int]]:
    """Greedy grouping in the order given: each item joins the group it is most similar to on average
    (at least ``threshold``) among those mentioning the same names; otherwise it starts a group.

    Average rather than centroid similarity: a centroid drifts toward what all questions share and
    swallows its neighbours. Earlier items never move, so a group keeps its first member (and id).
    """
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    for i in range(len(vecs)):
        best, best_sim = -1, threshold
        for g, total in enumerate(sums):
            if signatures[groups[g][0]] != signatures[i]:
                continue
            sim = float(vecs[i] @ total) / len(groups[g])
            if sim >= best_sim:
                best, best_sim = g, sim
        if best < 0:
            groups.append([i])
            sums.append(np.array(vecs[i], dtype=np.float32))
        else:
            groups[best].append(i)
            sums[best] = sums[best] + vecs[i]
    return groups


def _nearest_document(rows: Iterable[GapRow]) -> str:
    score: Counter[str] = Counter()
    for row in rows:
        for path, weight in zip(row.nearest, _NEAREST_WEIGHTS):
            score[path] += weight
    return min(score, key=lambda p: (-score[p], p)) if score else ""


def _gap(rows: list[GapRow], docs: dict[str, DocumentRow]) -> Gap:
    """One gap from its rows (any order): the wording asked most, the nearest document's topic and owner."""
    by_time = sorted(rows, key=lambda r: (r.created, r.id), reverse=True)
    wordings = Counter(" ".join(r.question.lower().split()) for r in rows)
    question = max(by_time, key=lambda r: (wordings[" ".join(r.question.lower().split())], len(r.question))).question
    examples = tuple(dict.fromkeys(r.question for r in by_time))[:5]
    client = rows[0].client
    nearest = _nearest_document(rows)
    doc = docs.get(nearest)
    owner = doc.owner if doc and doc.owner else next((r.owner for r in by_time if r.owner), "")
    if not owner and client:
        owner = next((d.owner for d in docs.values() if d.type == "client" and d.client == client), "")
    return Gap(
        id=min(r.id for r in rows), question=question, examples=examples, count=len(rows), client=client,
        topic=doc.title if doc else "", topic_path=nearest, owner=owner, reason=by_time[0].reason,
        reasons=dict(Counter(r.reason for r in rows)), first_seen=min(r.created for r in rows),
        last_seen=max(r.created for r in rows), answered=by_time[0].answered_at is not None,
        answer_path=by_time[0].answer_path, answer_anchor=by_time[0].answer_anchor,
        row_ids=tuple(sorted(r.id for r in rows)),
    )


def group(rows: Iterable[GapRow], vecs: dict[int, np.ndarray], signature: dict[int, frozenset[str]],
          docs: dict[str, DocumentRow], threshold: float = SIMILAR_FROM) -> list[Gap]:
    """Open rows grouped by meaning per client; answered rows by the section that answered them. Newest first."""
    rows = list(rows)
    out: list[Gap] = []
    answered: dict[tuple[str, str], list[GapRow]] = {}
    open_by_client: dict[str, list[GapRow]] = {}
    for row in rows:
        if row.answered_at is not None:
            answered.setdefault((row.answer_path, row.answer_anchor), []).append(row)
        else:
            open_by_client.setdefault(row.client, []).append(row)
    for client_rows in open_by_client.values():
        client_rows.sort(key=lambda r: r.id)
        matrix = np.stack([vecs[r.id] for r in client_rows])
        for members in cluster(matrix, [signature.get(r.id, frozenset()) for r in client_rows], threshold):
            out.append(_gap([client_rows[i] for i in members], docs))
    out += [_gap(members, docs) for members in answered.values()]
    return sorted(out, key=lambda g: (g.last_seen, g.id), reverse=True)


def answer_file(gap: Gap, docs: Iterable[DocumentRow], slug: str) -> str:
    """Where the answer to ``gap`` goes: the client's own FAQ beside their card, else the FAQ of its topic."""
    if gap.client:
        card = next((d for d in docs if d.type == "client" and d.client == gap.client), None)
        folder = PurePosixPath(card.path).parent if card else PurePosixPath("clients")
        return str(folder / f"{slug}-faq.md")
    if gap.topic_path:
        stem = PurePosixPath(gap.topic_path).stem
        return gap.topic_path if stem.endswith("faq") else f"faq/{stem}-faq.md"
    return "faq/general-faq.md"


_HEADING_LIKE = re.compile(r"^ {0,3}(#{1,6}(?=\s|$)|=+\s*$|-+\s*$)")
_BLOCK_START = re.compile(r"^(\s{4}|\s{0,3}([-*+>|]|\d+[.)]|```|~~~|\\))")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_answer(text: str) -> str:
    """The owner's answer as Markdown that stays inside its section: no headings, no setext underlines,
    and a paragraph typed over several lines kept on one (a line is what an answer quotes)."""
    lines = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip("\n").split("\n")
    out: list[str] = []
    for raw in lines:
        line = "\\" + raw.lstrip() if _HEADING_LIKE.match(raw) else raw.rstrip()
        joins = out and out[-1].strip() and line.strip() and not _BLOCK_START.match(line) \
            and not _BLOCK_START.match(out[-1])
        if joins:
            out[-1] = f"{out[-1]} {line.strip()}"
        else:
            out.append(line)
    return "\n".join(out).strip()


def clean_heading(question: str) -> str:
    """A question as a one-line heading."""
    text = " ".join(_CONTROL.sub(" ", question).split()).lstrip("#").strip()
    return text[:200] or "?"


def unique_heading(heading: str, existing: str, today: dt.date) -> str:
    """``heading``, or with the date added when the file already has a level-2 heading like it."""
    taken = {line[3:].strip().lower() for line in existing.splitlines() if line.startswith("## ")}
    return heading if heading.lower() not in taken else f"{heading} ({today.isoformat()})"


def answer_section(heading: str, answer: str, author: str, today: dt.date) -> str:
    """The Markdown of one answered gap: the question as a level-2 heading, the answer, then who answered
    and when as a Markdown comment: kept in the file, never shown or quoted as part of the answer."""
    signed = "Answered by" if script(heading) == "latin" else "Ответ"
    by = re.sub(r"[()\n]", " ", f"{author}, " if author else "")
    return f"## {heading}\n\n{answer}\n\n[//]: # ({signed}: {by}{today.isoformat()})\n"
