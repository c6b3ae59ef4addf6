"""A handover: for every client of an owner, what the person covering must know, and what the person leaving
must still write down.

Per client: what is due, open questions and promises, open gaps, documents due for review, who signs, and
the parts of a client card nobody wrote (no payment terms, nobody named who signs). The checklist lists
each missing part and each unanswered gap with the place to write it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.brief import PARTS, Citation
from kb.dates import Statement
from kb.due import DueItem
from kb.freshness import Freshness
from kb.gaps import Gap

# The parts every client card should have, with what a missing one is called in the checklist.
REQUIRED = {
    "contacts": "no contacts written",
    "signers": "nobody named who signs",
    "contract": "no contract written",
    "payment": "no payment terms written",
}
SIGNERS_HEADING = "Кто подписывает документы"
_SIGNS = re.compile(r"подпис|\bsign", re.IGNORECASE)
_OPEN = re.compile(r"открыт|open", re.IGNORECASE)


@dataclass(frozen=True)
class Cited:
    """A line of a client's documents and where it is written."""

    text: str
    path: str
    heading_path: tuple[str, ...]
    start_line: int
    end_line: int
    kind: str = ""

    def as_dict(self) -> dict[str, object]:
        source = Citation(self.path, self.heading_path, self.start_line, self.end_line)
        return {"text": self.text, "kind": self.kind, "source": source.as_dict()}


@dataclass(frozen=True)
class Missing:
    """A part of the client card nobody wrote, and the heading to write it under."""

    key: str
    title: str
    heading: str
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "title": self.title, "heading": self.heading, "text": self.text}


@dataclass(frozen=True)
class ClientHandover:
    client: str
    title: str
    card: str
    signers: tuple[Cited, ...]
    due: tuple[DueItem, ...]
    open: tuple[Cited, ...]
    gaps: tuple[Gap, ...]
    stale: tuple[tuple[str, str, Freshness], ...]
    missing: tuple[Missing, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "client": self.client, "title": self.title, "card": self.card,
            "signers": [s.as_dict() for s in self.signers],
            "due": [d.as_dict() for d in self.due],
            "open": [o.as_dict() for o in self.open],
            "gaps": [{"id": g.id, "question": g.question, "count": g.count} for g in self.gaps],
            "stale": [{"path": p, "title": t, "review_due": f.review_due, "overdue_days": f.overdue_days}
                      for p, t, f in self.stale],
            "missing": [m.as_dict() for m in self.missing],
        }


@dataclass(frozen=True)
class Handover:
    owner: str
    to: str
    today: str
    clients: tuple[ClientHandover, ...] = field(default_factory=tuple)

    def checklist(self) -> list[dict[str, object]]:
        """What the person leaving must still write: each missing part and each unanswered gap, with where."""
        out: list[dict[str, object]] = []
        for c in self.clients:
            for m in c.missing:
                out.append({"id": f"missing:{c.client}:{m.key}", "kind": "missing", "key": m.key, "client": c.client,
                            "title": c.title, "text": m.text,
                            "action": {"type": "section", "path": c.card, "heading": m.heading}})
            for g in c.gaps:
                out.append({"id": f"gap:{g.id}", "kind": "gap", "client": c.client, "title": c.title,
                            "text": g.question, "action": {"type": "gap", "gap_id": g.id}})
        return out

    def as_dict(self) -> dict[str, object]:
        return {"owner": self.owner, "to": self.to, "today": self.today,
                "clients": [c.as_dict() for c in self.clients], "checklist": self.checklist()}


def signers(lines: list[tuple[str, Statement]]) -> list[Cited]:
    """Who signs: the lines under a heading about signing, or in the contacts that say who signs."""
    out = []
    for path, st in lines:
        under = any(_SIGNS.search(h) for h in st.heading_path[1:])
        if under or (st.part == "contacts" and _SIGNS.search(st.text)):
            out.append(Cited(st.text, path, st.heading_path, st.start_line, st.end_line))
    return out


def open_items(lines: list[tuple[str, Statement]]) -> list[Cited]:
    """Open questions and promises: the lines of those parts of the client's documents."""
    out = []
    for path, st in lines:
        if st.part == "promises" or (st.part == "issues" and any(_OPEN.search(h) for h in st.heading_path[1:])):
            kind = "promise" if st.part == "promises" else "open question"
            out.append(Cited(st.text, path, st.heading_path, st.start_line, st.end_line, kind))
    return out


def missing_parts(lines: list[tuple[str, Statement]], who_signs: list[Cited]) -> list[Missing]:
    """The required parts no line of the client's documents belongs to."""
    have = {st.part for _, st in lines}
    headings = {p.key: p.headings[0] for p in PARTS}
    out = []
    for key, text in REQUIRED.items():
        present = bool(who_signs) if key == "signers" else key in have
        if not present:
            title = "Who signs" if key == "signers" else next(p.title for p in PARTS if p.key == key)
            out.append(Missing(key, title, SIGNERS_HEADING if key == "signers" else headings[key], text))
    return out
