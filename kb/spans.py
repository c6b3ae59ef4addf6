"""Answer spans of a passage: its sentences, list items and table rows, located in the passage text.

Ingest embeds each span and the answer step picks one, so both must cut a passage the same way:
this module is that one way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.markdown import split_sentences

MAX_SPAN_CHARS = 300

_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+|^\s*>\s?|^#+\s+")
_CLAUSE = re.compile(r"(?<=[;:,—–])\s+")


@dataclass(frozen=True)
class Span:
    """A candidate answer: ``text`` as shown (emphasis marks dropped), from ``start`` to ``end`` of the passage."""

    text: str
    start: int
    end: int
    key: str = ""  # a table row's first cell: what names the row ("" for a sentence)


def _shown(raw: str) -> str:
    return raw.replace("**", "").replace("`", "").strip()


def _pieces(body: str, base: int) -> list[tuple[int, int]]:
    """Character ranges of the sentences of one line's body, long ones cut at clause boundaries."""
    out: list[tuple[int, int]] = []
    cursor = 0
    for sentence in split_sentences(body):
        at = body.find(sentence, cursor)
        if at < 0:
            continue
        cursor = at + len(sentence)
        if len(_shown(sentence)) <= MAX_SPAN_CHARS:
            out.append((base + at, base + cursor))
            continue
        start = end = at
        for clause in _CLAUSE.split(sentence):
            c = body.find(clause, end)
            if c < 0:
                continue
            if end > start and c + len(clause) - start > MAX_SPAN_CHARS:
                out.append((base + start, base + end))
                start = c
            end = c + len(clause)
        if end > start:
            out.append((base + start, base + min(end, start + MAX_SPAN_CHARS)))
    return out


_EMPTY_CELLS = frozenset({"", "-", "—", "–", "n/a"})


def cells(line: str) -> list[str]:
    """The cells of a Markdown table row, emphasis marks dropped ("| a | b |" -> ["a", "b"])."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [_shown(c) for c in re.split(r"(?<!\\)\|", body)]


def _is_rule(line: str) -> bool:
    return bool(line.strip()) and set(line.strip()) <= set("|-: ") and "-" in line


def table_row(header: list[str], row: list[str]) -> str:
    """A table row as a reader would say it: each filled cell after its column header, joined by " · "
    ("Размер скидки: до 5 % · Кто согласует: менеджер самостоятельно")."""
    pairs = [f"{h}: {c}" if h and h.lower() != c.lower() else c
             for h, c in zip(header + [""] * len(row), row) if c.lower() not in _EMPTY_CELLS]
    return " · ".join(pairs)


def spans(text: str) -> list[Span]:
    """The candidate answer spans of a passage, in reading order; each shown text is at most 300 characters.

    A table row is one span that keeps its column headers (see :func:`table_row`) and its first cell as ``key``;
    the header row itself is none.
    """
    out: list[Span] = []
    offset = 0
    lines = text.splitlines(keepends=True)
    header: list[str] | None = None
    for number, line in enumerate(lines):
        base, offset = offset, offset + len(line)
        body = line.rstrip("\r\n")
        if not body.lstrip().startswith("|"):
            header = None
        elif number + 1 < len(lines) and _is_rule(lines[number + 1]):
            header = cells(body)
            continue
        elif header is not None and not _is_rule(body):
            row = cells(body)
            shown = table_row(header, row)[:MAX_SPAN_CHARS]
            if shown:
                out.append(Span(shown, base, base + len(body), row[0]))
            continue
        if not body.strip() or set(body.strip()) <= set("|-: "):
            continue
        marker = _MARKER.match(body)
        skip = marker.end() if marker else 0
        for start, end in _pieces(body[skip:], base + skip):
            shown = _shown(text[start:end])[:MAX_SPAN_CHARS]
            if shown:
                out.append(Span(shown, start, end))
    return out
