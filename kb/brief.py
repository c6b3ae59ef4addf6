"""A client briefing before a call: what the documents say about the client, part by part, every line cited.

Parts come from headings. ``PARTS`` is the one place that maps heading words (Russian and English,
compared by stem) to a part: add a word there and documents that use it feed the brief. A part no
document covers is reported as missing, never filled in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from kb.datastore import Change
from kb.freshness import Freshness
from kb.markdown import Block, Document, Section, anchor, front_matter_lines, split_sentences
from kb.search import Hit
from kb.text import content_stems


@dataclass(frozen=True)
class PartSpec:
    """A part of the brief: the headings that feed it (first one is the heading templates use)."""

    key: str
    title: str
    headings: tuple[str, ...]
    limit: int = 6
    newest_last: bool = False


# Heading -> part. A section belongs to the part of its deepest heading that matches one; a heading
# matches a phrase when it holds every topic word of the phrase.
PARTS = (
    PartSpec("contacts", "Contacts and roles",
             ("Контакты и роли", "Контакты", "Кто подписывает", "Лица принимающие решения", "Contacts", "Roles",
              "Decision makers", "Who signs"), limit=8),
    PartSpec("contract", "Contract", ("Договор", "Контракт", "Дополнительные соглашения", "Пролонгация", "Продление",
                                      "Contract", "Agreement", "Renewal")),
    PartSpec("payment", "Payment terms", ("Условия оплаты", "Оплата", "Отсрочка", "Платежи", "Payment", "Billing")),
    PartSpec("products", "Products and editions", ("Продукты", "Редакции", "Лицензии", "Products", "Editions",
                                                   "Licences", "Licenses")),
    PartSpec("promises", "What we promised", ("Что обещали", "Обещания", "Обязательства", "What we promised",
                                              "Promises", "Commitments")),
    PartSpec("issues", "Open issues and risks", ("Открытые вопросы", "Риски", "Проблемы", "Open questions",
                                                 "Open issues", "Risks", "Issues")),
    PartSpec("preferences", "Preferences", ("Предпочтения", "Как общаться", "Preferences")),
    PartSpec("history", "Recent history", ("История", "Хронология", "History", "Timeline"), limit=3,
             newest_last=True),
)
# Lines kept per part computed from other data (and the text under the title), to stay on one screen.
LIMITS = {"about": 4, "changes": 5, "questions": 5, "facts": 4}
ABOUT = "about"
TITLES = {ABOUT: "Who they are", "changes": "Recent changes to their documents",
          "questions": "Asked most about them", "facts": "Product facts for their products",
          **{p.key: p.title for p in PARTS}}

_MATCHERS = [(spec, [content_stems(h) for h in spec.headings]) for spec in PARTS]


def _matching(heading: str) -> PartSpec | None:
    have = content_stems(heading)
    return next((spec for spec, phrases in _MATCHERS if any(p and p <= have for p in phrases)), None)


def part_of(heading_path: tuple[str, ...]) -> tuple[PartSpec, int] | None:
    """The part a section belongs to (its deepest heading that matches one) and the depth where that part
    starts (its shallowest heading of the same part)."""
    matches = [_matching(h) for h in heading_path]
    spec = next((m for m in reversed(matches) if m is not None), None)
    if spec is None:
        return None
    return spec, matches.index(spec)


@dataclass(frozen=True)
class Citation:
    """The lines of a document a brief line was taken from."""

    path: str
    heading_path: tuple[str, ...]
    start_line: int
    end_line: int
    stale: bool = False

    @property
    def anchor(self) -> str:
        return anchor(self.heading_path)

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "heading_path": list(self.heading_path), "start_line": self.start_line,
                "end_line": self.end_line, "anchor": self.anchor, "stale": self.stale}


@dataclass(frozen=True)
class Line:
    """One fact of the brief and where it is written; ``label`` is the sub-heading it sits under."""

    text: str
    source: Citation | None
    label: str = ""
    kind: str = ""
    date: str = ""
    count: int = 0
    answered: bool = True

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "label": self.label, "kind": self.kind, "date": self.date, "count": self.count,
                "answered": self.answered, "source": self.source.as_dict() if self.source else None}


@dataclass(frozen=True)
class Part:
    """A part of the brief; ``more`` lines were left out to keep it on one screen."""

    key: str
    title: str
    lines: tuple[Line, ...]
    more: int = 0
    hint: str = ""

    @property
    def missing(self) -> bool:
        return not self.lines

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "title": self.title, "missing": self.missing, "hint": self.hint, "more": self.more,
                "lines": [line.as_dict() for line in self.lines]}


@dataclass(frozen=True)
class Brief:
    """Everything to read before a call with a client."""

    client: str
    title: str
    owner: str
    card: str
    today: str
    documents: tuple[str, ...]
    parts: tuple[Part, ...] = field(default_factory=tuple)

    def part(self, key: str) -> Part:
        return next(p for p in self.parts if p.key == key)

    def as_dict(self) -> dict[str, object]:
        return {"client": self.client, "title": self.title, "owner": self.owner, "card": self.card,
                "today": self.today, "documents": list(self.documents), "parts": [p.as_dict() for p in self.parts]}


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?|^\s*>\s?")


def plain(text: str) -> str:
    """Markdown source of a line as plain text: no emphasis, links, list markers or table pipes."""
    text = _LINK.sub(r"\1", text)
    if text.lstrip().startswith("|"):
        cells = [c.strip() for c in text.strip().strip("|").split("|")]
        text = " · ".join(c for c in cells if c)
    lines = [_MARKER.sub("", line).strip() for line in text.splitlines()]
    text = " ".join(line for line in lines if line)
    return " ".join(text.replace("**", "").replace("__", "").replace("`", "").split())


def block_lines(block: Block) -> list[tuple[str, int, int]]:
    """A block as brief lines: list items, table rows, sentences, each with its line range."""
    parts = block.parts or ((block.text, block.start_line, block.end_line),)
    return [(t, a, b) for text, a, b in parts if (t := plain(text))]


def section_lines(doc: Document, section: Section, label: str, stale: bool) -> list[Line]:
    """The lines of one section, each cited to its own line range."""
    return [
        Line(text, Citation(doc.path, section.heading_path, a, b, stale), label)
        for block in section.blocks
        for text, a, b in block_lines(block)
    ]


def document_parts(doc: Document, stale: bool) -> dict[str, list[Line]]:
    """A client document's sections sorted into parts; text under the client card's title is ``about``.

    Sections below the heading that starts their part are labelled with their own heading.
    """
    out: dict[str, list[Line]] = {}
    for section in doc.sections:
        found = part_of(section.heading_path)
        if found is None:
            if len(section.heading_path) == 1 and doc.meta.type == "client":
                out.setdefault(ABOUT, []).extend(section_lines(doc, section, "", stale))
            continue
        spec, start = found
        label = section.heading if len(section.heading_path) - 1 > start else ""
        out.setdefault(spec.key, []).extend(section_lines(doc, section, label, stale))
    return out


def trim(key: str, lines: list[Line]) -> Part:
    """A part of at most its limit of lines (the newest, where lines grow at the bottom)."""
    spec = next((p for p in PARTS if p.key == key), None)
    limit = spec.limit if spec else LIMITS.get(key, 6)
    kept = lines[-limit:] if spec and spec.newest_last else lines[:limit]
    hint = spec.headings[0] if spec else ""
    return Part(key, TITLES.get(key, key), tuple(kept), max(len(lines) - limit, 0), hint)


ORDER = (ABOUT, "contacts", "contract", "payment", "products", "promises", "issues", "changes", "questions", "facts",
         "preferences", "history")


@dataclass(frozen=True)
class ClientDocument:
    """A document about the client as the brief reads it: parsed, with its source text and freshness."""

    doc: Document
    text: str
    freshness: Freshness

    def front_matter(self, key: str) -> Citation:
        line = front_matter_lines(self.text).get(key, 1)
        return Citation(self.doc.path, (self.doc.title,), line, line, self.freshness.stale)

    def section(self, heading_path: tuple[str, ...]) -> Citation:
        found = next((s for s in self.doc.sections if s.heading_path == heading_path), None)
        if found is None:
            return Citation(self.doc.path, (self.doc.title,), 1, 1, self.freshness.stale)
        return Citation(self.doc.path, heading_path, found.start_line, found.end_line, self.freshness.stale)


def review_lines(docs: Iterable[ClientDocument]) -> list[Line]:
    """When each client document was verified and when its review is due."""
    out = []
    for d in docs:
        f = d.freshness
        text = (f"{d.doc.path}: verified {f.verified}, review due {f.review_due}" if f.verified
                else f"{d.doc.path}: never verified")
        out.append(Line(text, d.front_matter("verified"), kind="review", date=f.review_due))
    return out


def change_lines(changes: Iterable[Change], docs: dict[str, ClientDocument]) -> list[Line]:
    """Changes kb saw to the client's documents, newest first, cited to the section as it is now."""
    out = []
    for c in changes:
        where = (" › ".join(c.heading_path[1:]) or c.heading_path[0]) if c.heading_path else ""
        doc = docs.get(c.path)
        source = None if doc is None else (doc.section(c.heading_path) if c.heading_path and c.kind != "removed"
                                           else doc.front_matter("title"))
        day = dt.datetime.fromtimestamp(c.at).date().isoformat()
        out.append(Line(f"{c.path}{': ' + where if where else ''} {c.kind}", source, label=where, kind=c.kind,
                        date=day))
    return out


def first_sentence(text: str) -> str:
    """The first sentence (or list item, or table row) of a passage, as plain text."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        is_rule = set(line.strip()) <= set("|-: ")
        is_header = line.lstrip().startswith("|") and i + 1 < len(lines) and set(lines[i + 1].strip()) <= set("|-: ")
        if is_rule or is_header:
            continue
        sentences = split_sentences(plain(line))
        if sentences:
            return sentences[0]
    return ""


def fact_lines(product: str, hits: list[Hit], spans: list[str], stale: dict[str, bool]) -> list[Line]:
    """One line per product section: where it is, and its sentence closest to what the client uses."""
    out = []
    for h, span in zip(hits, spans):
        text = f"{' › '.join(h.heading_path[1:]) or h.heading}: {plain(span) or first_sentence(h.text)}"
        out.append(Line(text[:300], Citation(h.path, h.heading_path, h.start_line, h.end_line,
                                             stale.get(h.path, False)), label=product, kind="fact"))
    return out


def assemble(client: str, title: str, owner: str, today: dt.date, docs: list[ClientDocument],
             product_titles: dict[str, str], derived: dict[str, list[Line]]) -> Brief:
    """The brief from the client's documents (client card first) and the parts computed elsewhere."""
    lines: dict[str, list[Line]] = {}
    for d in docs:
        if d.doc.meta.type == "client" and d.doc.meta.products:
            names = ", ".join(product_titles.get(p, p) for p in d.doc.meta.products)
            lines.setdefault("products", []).append(Line(names, d.front_matter("products"), kind="front_matter"))
        for key, found in document_parts(d.doc, d.freshness.stale).items():
            lines.setdefault(key, []).extend(found)
    for key, found in derived.items():
        lines.setdefault(key, []).extend(found)
    card = next((d.doc.path for d in docs if d.doc.meta.type == "client"), "")
    parts = tuple(trim(key, lines.get(key, [])) for key in ORDER)
    return Brief(client, title, owner, card, today.isoformat(), tuple(d.doc.path for d in docs), parts)
