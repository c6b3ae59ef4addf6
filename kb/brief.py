"""A client briefing before a call: what the documents say about the client, part by part, every line cited.

It reads like a pre-call checklist (``ORDER``): a warning when the client card is overdue for review, what
is due (overdue, then due within 30 days), open questions and risks, who decides and who signs, promises,
preferences, then contract, payment and products; background and derived parts after.

Parts come from headings. ``PARTS`` is the one place that maps heading words (Russian and English,
compared by stem) to a part: add a word there and documents that use it feed the brief. A part no
document covers is reported as missing, never filled in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from kb.datastore import Change
from kb.freshness import Freshness
from kb.markdown import Block, Document, Section, anchor, front_matter_lines, split_sentences
from kb.names import fold
from kb.search import Hit
from kb.spans import cells
from kb.text import content_stems, script, stem

if TYPE_CHECKING:  # kb.due reads documents through this module: imported for types only
    from kb.due import DueItem


@dataclass(frozen=True)
class PartSpec:
    """A part of the brief: the headings that feed it (first one is the heading templates use)."""

    key: str
    title: str
    headings: tuple[str, ...]
    limit: int = 6
    newest_last: bool = False
    # Headings whose lines lead the part, group by group in this order; lines under other headings follow.
    leading: tuple[tuple[str, ...], ...] = ()


# Heading -> part. A section belongs to the part of its deepest heading that matches one; a heading
# matches a phrase when it holds every topic word of the phrase.
PARTS = (
    PartSpec("contacts", "Contacts and roles",
             ("Контакты и роли", "Контакты", "Кто подписывает", "Лица принимающие решения", "Contacts", "Roles",
              "Decision makers", "Who signs"), limit=8,
             leading=(("Лица принимающие решения", "Кто принимает решения", "Решения", "Decision makers"),
                      ("Кто подписывает", "Подписание", "Who signs", "Signing"))),
    PartSpec("contract", "Contract", ("Договор", "Контракт", "Дополнительные соглашения", "Пролонгация", "Продление",
                                      "Contract", "Agreement", "Renewal")),
    PartSpec("payment", "Payment terms", ("Условия оплаты", "Оплата", "Отсрочка", "Платежи", "Payment", "Billing")),
    PartSpec("products", "Products and editions", ("Продукты", "Редакции", "Лицензии", "Products", "Editions",
                                                   "Licences", "Licenses")),
    PartSpec("promises", "What we promised", ("Что обещали", "Обещания", "Обязательства", "What we promised",
                                              "Promises", "Commitments")),
    PartSpec("issues", "Open issues and risks", ("Открытые вопросы", "Риски", "Проблемы", "Open questions",
                                                 "Open issues", "Risks", "Issues"),
             leading=(("Открытые вопросы", "Open questions", "Open issues"),)),
    PartSpec("preferences", "Preferences", ("Предпочтения", "Как общаться", "Preferences")),
    PartSpec("history", "Recent history", ("История", "Хронология", "History", "Timeline"), limit=3,
             newest_last=True),
)
# Lines kept per part computed from other data (and the text under the title), to stay on one screen.
LIMITS = {"about": 4, "changes": 5, "questions": 5, "facts": 4, "due": 8, "review": 1}
ABOUT, REVIEW, DUE = "about", "review", "due"
TITLES = {REVIEW: "Review overdue", DUE: "What is due", ABOUT: "Who they are",
          "changes": "Recent changes to their documents",
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


_LEADING = {spec.key: [[content_stems(h) for h in group] for group in spec.leading] for spec in PARTS}


def _lead_rank(key: str, line: Line) -> int:
    """Where a line's section stands in its part's ``leading`` groups (those first), the rest after them."""
    groups = _LEADING.get(key, [])
    headings = [content_stems(h) for h in line.source.heading_path[1:]] if line.source else []
    return next((i for i, group in enumerate(groups) if any(p and p <= h for p in group for h in headings)),
                len(groups))


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
    gap_id: int | None = None  # the open knowledge gap of a question kb did not answer confidently

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "label": self.label, "kind": self.kind, "date": self.date, "count": self.count,
                "answered": self.answered, "gap_id": self.gap_id,
                "source": self.source.as_dict() if self.source else None}


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


# A pre-call checklist: the card's review warning (only when overdue), what is due, what is open, who decides
# and signs, what we promised and how they like to work, then the terms; background after. "Who they are" is
# background read once, so it stands with the history rather than above what needs doing.
ORDER = (REVIEW, DUE, "issues", "contacts", "promises", "preferences", "contract", "payment", "products", "facts",
         "questions", ABOUT, "history", "changes")


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


def card_warning(card: ClientDocument) -> Line | None:
    """One line saying the client card is overdue for review, in the card's language, cited to its ``verified``
    line; None while the card is fresh."""
    f = card.freshness
    if not f.stale:
        return None
    russian = script(card.text) == "cyrillic"
    if f.verified:
        text = (f"Карточка не проверялась с {f.verified} (проверка была нужна до {f.review_due})" if russian
                else f"The card has not been verified since {f.verified} (review was due by {f.review_due})")
    else:
        text = "Карточка ни разу не отмечена проверенной" if russian else "The card was never marked verified"
    return Line(text, card.front_matter("verified"), kind="stale", date=f.review_due)


def due_lines(items: Iterable[DueItem], stale: dict[str, bool]) -> list[Line]:
    """Dated items as brief lines (the caller picks and orders them): the status as ``kind``, the ISO date, what
    the item is ("promise", "notice deadline") as ``label``, cited to the sentence's lines."""
    return [Line(i.item.text, Citation(i.item.path, i.item.heading_path, i.item.start_line, i.item.end_line,
                                       stale.get(i.item.path, False)),
                 label=i.item.kind, kind=i.status, date=i.item.date.isoformat())
            for i in items]


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


# Column headers under which a product page's tables list its editions.
EDITION_HEADERS = ("Редакция", "Edition", "Tier")
_EDITION_STEMS = frozenset(s for h in EDITION_HEADERS for s in content_stems(h))
_ASIDE = re.compile(r"\([^)]*\)|«[^»]*»|\"[^\"]*\"")
_CAPITALISED = re.compile(r"\b[A-ZА-ЯЁ]\w*")
_NAME_WORD = re.compile(r"\w+")


def _capitalised_stems(text: str) -> set[str]:
    return {stem(w.lower()) for w in _CAPITALISED.findall(text)}


def edition_tables(doc: Document) -> list[list[str]]:
    """The names each table of a product page lists in its edition column ("Редакция", "Edition"), in row order."""
    out = []
    for section in doc.sections:
        for block in section.blocks:
            if block.kind != "table" or not block.lead:
                continue
            header = cells(block.lead.splitlines()[0])
            col = next((i for i, c in enumerate(header) if content_stems(c) & _EDITION_STEMS), None)
            if col is None:
                continue
            names = [row[col] for text, _, _ in block.parts if len(row := cells(text)) > col and row[col]]
            if names:
                out.append(names)
    return out


def editions_of(tables: list[list[str]]) -> list[frozenset[str]]:
    """A product's editions, each as the stems of the capitalised words of the names it goes by.

    A name already known joins its edition; otherwise a table as long as the first names the same editions in
    the same order (an English datasheet's Start, Business, Pro are the Russian page's Старт, Бизнес, Pro).
    """
    found: list[set[str]] = []
    for names in tables:
        for i, name in enumerate(names):
            words = _capitalised_stems(_ASIDE.sub(" ", name))
            if not words:
                continue
            known = next((e for e in found if e & words), None)
            if known is None and len(names) == len(tables[0]) and i < len(found):
                known = found[i]
            if known is None:
                found.append(set(words))
            else:
                known |= words
    return [frozenset(e) for e in found]


def _name_spans(text: str, spellings: Iterable[tuple[str, ...]]) -> list[tuple[int, int]]:
    """Where ``text`` writes one of the spellings of a name (folded words in a row), as character ranges."""
    tokens = [(m.start(), m.end(), fold(m.group(0))) for m in _NAME_WORD.finditer(text)]
    out = []
    for spelling in spellings:
        n = len(spelling)
        for i in range(len(tokens) - n + 1):
            if n and tuple(t[2] for t in tokens[i:i + n]) == spelling:
                out.append((tokens[i][0], tokens[i + n - 1][1]))
    return sorted(out)


def editions_named(text: str, editions: list[frozenset[str]], product: Iterable[tuple[str, ...]] = ()) -> set[int]:
    """The editions (indexes into ``editions``) ``text`` names: a capitalised word stemming to one of an edition's
    names, outside the product's own name (``product``: its spellings; "Pro" in "Sklad Pro" is the product)."""
    names = _name_spans(text, product)
    out: set[int] = set()
    for m in _CAPITALISED.finditer(text):
        if not any(a <= m.start() < b for a, b in names):
            word = stem(m.group(0).lower())
            out |= {i for i, e in enumerate(editions) if word in e}
    return out


def client_editions(lines: Iterable[str], product: str, editions: list[frozenset[str]],
                    spellings: dict[str, tuple[tuple[str, ...], ...]]) -> set[int]:
    """The editions of ``product`` the client has: those its products lines name after the product's name and
    before another product's ("Склад Про **Pro**", "CRM Норд · Бизнес", "Sklad Pro (Business and Pro)")."""
    out: set[int] = set()
    own = spellings.get(product, ())
    for text in lines:
        marks = sorted((a, b, pid) for pid, names in spellings.items() for a, b in _name_spans(text, names))
        for k, (_, b, pid) in enumerate(marks):
            if pid == product:
                end = next((a for a, _, other in marks[k + 1:] if other != product), len(text))
                out |= editions_named(text[b:end], editions, own)
    return out


def about_editions(text: str, have: set[int], editions: list[frozenset[str]],
                   product: Iterable[tuple[str, ...]] = ()) -> bool:
    """Whether ``text`` may be quoted to a client with editions ``have``: it names no edition, or one of theirs."""
    named = editions_named(text, editions, product)
    return not named or bool(named & have)


def assemble(client: str, title: str, owner: str, today: dt.date, docs: list[ClientDocument],
             product_titles: dict[str, str], derived: dict[str, list[Line]]) -> Brief:
    """The brief from the client's documents (client card first) and the parts computed elsewhere.

    A client card overdue for review says so once, in the ``review`` part at the top (present only then): the
    card's own review line leaves "changes", and lines citing the card are not flagged stale one by one.
    """
    lines: dict[str, list[Line]] = {}
    for d in docs:
        if d.doc.meta.type == "client" and d.doc.meta.products:
            names = ", ".join(product_titles.get(p, p) for p in d.doc.meta.products)
            lines.setdefault("products", []).append(Line(names, d.front_matter("products"), kind="front_matter"))
        for key, found in document_parts(d.doc, d.freshness.stale).items():
            lines.setdefault(key, []).extend(found)
    for key, found in derived.items():
        lines.setdefault(key, []).extend(found)
    card_doc = next((d for d in docs if d.doc.meta.type == "client"), None)
    card = card_doc.doc.path if card_doc else ""
    warning = card_warning(card_doc) if card_doc else None
    if warning is not None:
        for key, found in lines.items():
            lines[key] = [replace(line, source=replace(line.source, stale=False))
                          if line.source and line.source.path == card and line.source.stale else line
                          for line in found if not (key == "changes" and line.kind == "review" and line.source
                                                    and line.source.path == card)]
        lines[REVIEW] = [warning]
    for key, found in lines.items():
        if _LEADING.get(key):
            ranked = sorted(enumerate(found), key=lambda pair: (_lead_rank(key, pair[1]), pair[0]))
            lines[key] = [line for _, line in ranked]
    parts = tuple(trim(key, lines.get(key, [])) for key in ORDER if key != REVIEW or lines.get(key))
    return Brief(client, title, owner, card, today.isoformat(), tuple(d.doc.path for d in docs), parts)
