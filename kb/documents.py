"""Documents as people read them: Markdown rendered to HTML with an anchor per heading section."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.errors import NotFound
from kb.ingest import MARKDOWN_SUFFIXES, decode
from kb.markdown import SAFE_MD as _MD
from kb.markdown import anchor, heading_text, parse


@dataclass(frozen=True)
class SectionRef:
    heading: str
    anchor: str
    level: int
    start_line: int
    end_line: int


@dataclass(frozen=True)
class Rendered:
    """A document ready to show: metadata, HTML and its sections."""

    path: str
    title: str
    meta: dict[str, Any]
    html: str
    sections: list[SectionRef]


def resolve(content_dir: Path, path: str) -> Path:
    """The file for a content-relative ``path``; anything outside the content root is not found."""
    root = content_dir.resolve()
    if not path or path.startswith(("/", "\\")) or "\x00" in path or "\\" in path:
        raise NotFound(f"no document {path!r}")
    try:
        target = (root / path).resolve(strict=True)
        target.relative_to(root)
    except (OSError, ValueError, RuntimeError) as exc:
        raise NotFound(f"no document {path!r}") from exc
    if not target.is_file() or not target.name.lower().endswith(MARKDOWN_SUFFIXES):
        raise NotFound(f"no document {path!r}")
    return target


def render(content_dir: Path, path: str, max_bytes: int) -> Rendered:
    """Render one content file; raises :class:`NotFound` for anything that is not a readable document."""
    target = resolve(content_dir, path)
    try:
        if target.stat().st_size > max_bytes:
            raise NotFound(f"document {path!r} is too large to show")
        text = decode(target.read_bytes())
        doc = parse(text, path)
    except NotFound:
        raise
    except Exception as exc:
        raise NotFound(f"document {path!r} cannot be shown: {exc}") from exc
    tokens = _MD.parse(text)
    stack: list[tuple[int, str]] = []
    sections: list[SectionRef] = []
    seen: set[str] = set()
    for i, tok in enumerate(tokens):
        if tok.type == "front_matter":
            tok.hidden = True
        if tok.level == 0 and tok.map and tok.nesting in (0, 1):
            tok.attrSet("data-start-line", str(tok.map[0] + 1))
            tok.attrSet("data-end-line", str(tok.map[1]))
        if tok.type == "heading_open":
            level = int(tok.tag[1:])
            heading = heading_text(tokens[i + 1])
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            ident = anchor([h for _, h in stack])
            if ident in seen:
                continue
            seen.add(ident)
            tok.attrSet("id", ident)
            start = tok.map[0] + 1 if tok.map else 0
            sections.append(SectionRef(heading, ident, level, start, start))
    lines = len(text.splitlines())
    sections = [
        SectionRef(s.heading, s.anchor, s.level, s.start_line, (nxt.start_line - 1) if nxt else lines)
        for s, nxt in zip(sections, [*sections[1:], None])
    ]
    html = _MD.renderer.render([t for t in tokens if t.type != "front_matter"], _MD.options, {})
    m = doc.meta
    meta = {
        "type": m.type, "client": m.client, "products": list(m.products), "owner": m.owner,
        "verified": m.verified, "review_every": m.review_every, "tags": list(m.tags),
    }
    return Rendered(path, doc.title, meta, html, sections)

