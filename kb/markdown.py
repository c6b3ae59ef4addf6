"""Parse one Markdown file into its metadata and heading sections (markdown-it-py)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from kb.errors import BadInput

DOC_TYPES = ("client", "product", "policy", "faq", "playbook")
_SENTENCE_END = re.compile(r"[.!?…][\"»)\]]*\s+(?=[\"«(\[*]?[A-ZА-ЯЁ0-9])")
_NOT_AN_END = re.compile(
    r"(?:^|[\s(])(?:[A-ZА-ЯЁa-zа-яё]|т\.\s?е|т\.\s?д|т\.\s?п|др|пр|см|ул|д|г|гг|руб|тыс|млн|млрд|коп|стр|рис|им|проф"
    r"|e\.g|i\.e|etc|vs|Mr|Mrs|Ms|Dr|No|St|Inc|Ltd|Co)\.$"
)


@dataclass(frozen=True)
class Meta:
    """Front matter fields kb understands; anything else is kept in ``extra``."""

    title: str = ""
    type: str = ""
    client: str = ""
    products: tuple[str, ...] = ()
    owner: str = ""
    verified: str = ""
    review_every: str = ""
    tags: tuple[str, ...] = ()
    access: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Block:
    """A top-level block of a section, split into parts that may be separated when too long."""

    kind: str
    text: str
    start_line: int
    end_line: int
    parts: tuple[tuple[str, int, int], ...]
    lead: str = ""


@dataclass(frozen=True)
class Section:
    """The text under one heading, up to the next heading of any level."""

    heading: str
    heading_path: tuple[str, ...]
    start_line: int
    end_line: int
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """A parsed Markdown file."""

    path: str
    meta: Meta
    title: str
    sections: tuple[Section, ...]


_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def anchor(heading_path: tuple[str, ...] | list[str]) -> str:
    """The HTML id of a section: its heading path, lower-cased, non-word characters as dashes."""
    return _NON_WORD.sub("-", " ".join(heading_path).lower()).strip("-") or "top"


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"maxNesting": 20}).enable("table").use(front_matter_plugin)


_MD = _parser()
# For showing and checking documents: raw HTML in content stays text, never runs in a reader's browser.
SAFE_MD = MarkdownIt("commonmark", {"html": False, "maxNesting": 20}).enable("table").use(front_matter_plugin)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple, set)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


def parse_meta(raw: str) -> Meta:
    """Front matter YAML to :class:`Meta`; raises :class:`BadInput` when it is not a mapping."""
    try:
        data = yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        raise BadInput(f"broken YAML front matter: {str(exc).splitlines()[0]}") from exc
    except ValueError as exc:  # a date-like value that is no date, such as 2026-13-45
        raise BadInput(f"broken YAML front matter: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadInput("front matter is not a YAML mapping")
    known = {f: data.pop(f, None) for f in
             ("title", "type", "client", "products", "owner", "verified", "review_every", "tags", "access")}
    verified = known["verified"]
    if isinstance(verified, (dt.date, dt.datetime)):
        verified = verified.isoformat()[:10]
    return Meta(
        title=str(known["title"] or "").strip(),
        type=str(known["type"] or "").strip().lower(),
        client=str(known["client"] or "").strip(),
        products=_as_tuple(known["products"]),
        owner=str(known["owner"] or "").strip(),
        verified=str(verified or ""),
        review_every=str(known["review_every"] or ""),
        tags=_as_tuple(known["tags"]),
        access=_as_tuple(known["access"]),
        extra={str(k): v for k, v in data.items()},
    )


_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:")


def front_matter_lines(text: str) -> dict[str, int]:
    """Top-level front matter keys and the (1-based) line each is set on; empty without front matter."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    found: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() in ("---", "..."):
            return found
        m = _KEY.match(line)
        if m:
            found.setdefault(m.group(1), number)
    return {}


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences on end punctuation followed by a capital or digit.

    A period after an initial or a common abbreviation ("О. Морозова", "т.е.", "г.") does not end one.
    """
    out = []
    for line in text.splitlines():
        start = 0
        for m in _SENTENCE_END.finditer(line):
            if line[m.start()] == "." and _NOT_AN_END.search(line[start : m.start() + 1]):
                continue
            piece = line[start : m.end()].strip()
            if piece:
                out.append(piece)
            start = m.end()
        if line[start:].strip():
            out.append(line[start:].strip())
    return out


def _inline_text(token: Token) -> str:
    if not token.children:
        return token.content.strip()
    return "".join(c.content for c in token.children if c.type in ("text", "code_inline")).strip()


def heading_text(token: Token) -> str:
    """The plain text of a heading's inline token: what heading paths and anchors are made of."""
    return _inline_text(token) or "(untitled)"


def _block_parts(kind: str, tokens: list[Token], lines: list[str], start: int, end: int) -> list[tuple[str, int, int]]:
    """Where a too-long block may be cut: list items, table rows, code lines, sentences."""
    if kind in ("bullet_list", "ordered_list"):
        items = [t.map for t in tokens if t.type == "list_item_open" and t.level == 1 and t.map]
        bounds = [m[0] for m in items] + [end]
        return [("\n".join(lines[a:b]).rstrip(), a + 1, b) for a, b in zip(bounds, bounds[1:]) if a < b]
    if kind == "table":
        return [(lines[i], i + 1, i + 1) for i in range(start + 2, end) if lines[i].strip()]
    if kind == "paragraph":
        text = "\n".join(lines[start:end])
        return [(s, start + 1, end) for s in split_sentences(text)] or [(text, start + 1, end)]
    return [(line, start + i + 1, start + i + 1) for i, line in enumerate(lines[start:end]) if line.strip()]


def parse(text: str, path: str, check_type: bool = True) -> Document:
    """Parse Markdown source; ``path`` is only used for the fallback title.

    An unknown ``type`` is :class:`BadInput` unless ``check_type`` is off (the linter reports it itself).
    """
    lines = text.splitlines()
    tokens = _MD.parse(text)
    meta = Meta()
    if tokens and tokens[0].type == "front_matter":
        meta = parse_meta(tokens[0].content)
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    h1 = next(
        (_inline_text(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h1"),
        "",
    )
    title = meta.title or h1 or stem
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    current: dict[str, Any] = {"heading": title, "path": (title,), "start": 1, "blocks": []}
    body_start = 0

    def close(end_line: int) -> None:
        if current["blocks"]:
            sections.append(
                Section(current["heading"], current["path"], current["start"], end_line, tuple(current["blocks"]))
            )

    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "front_matter":
            body_start = tok.map[1] if tok.map else 0
            current["start"] = body_start + 1
            i += 1
            continue
        if tok.type == "heading_open" and tok.map:
            level = int(tok.tag[1:])
            heading = heading_text(tokens[i + 1])
            close(tok.map[0])
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            current = {"heading": heading, "path": tuple(h for _, h in stack), "start": tok.map[0] + 1, "blocks": []}
            i += 3
            continue
        if tok.level == 0 and tok.map and tok.nesting in (0, 1):
            start, end = tok.map
            start = max(start, body_start)
            j = i
            if tok.nesting == 1:
                depth = 0
                while j < len(tokens):
                    depth += tokens[j].nesting
                    if depth == 0:
                        break
                    j += 1
            kind = tok.type.removesuffix("_open")
            block_text = "\n".join(lines[start:end]).strip()
            if block_text and kind not in ("hr",):
                parts = _block_parts(kind, tokens[i : j + 1], lines, start, end)
                lead = "\n".join(lines[start : start + 2]) if kind == "table" else ""
                current["blocks"].append(Block(kind, block_text, start + 1, end, tuple(parts), lead))
            i = j + 1
            continue
        i += 1
    close(len(lines))
    if check_type and meta.type and meta.type not in DOC_TYPES:
        raise BadInput(f"unknown document type {meta.type!r} (expected one of {', '.join(DOC_TYPES)})")
    return Document(path=path, meta=meta, title=title, sections=tuple(sections))
