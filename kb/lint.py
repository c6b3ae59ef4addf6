"""Check the content folder the way a docs team's CI would: every finding with its file and line.

Errors make kb answer worse or wrong (no owner to ask, a client without a card, a link to nowhere,
two sections with one anchor); warnings are worth a look (a section too long to embed whole).
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from markdown_it.token import Token

from kb.chunking import chunk_section
from kb.errors import BadInput
from kb.freshness import parse_date, review_days
from kb.ingest import decode, scan
from kb.markdown import DOC_TYPES, Document, anchor, front_matter_lines, parse, parse_meta
from kb.markdown import SAFE_MD as _MD


@dataclass(frozen=True)
class Finding:
    """One problem in one file, at one line."""

    path: str
    line: int
    severity: str
    code: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "severity": self.severity, "code": self.code,
                "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity} [{self.code}] {self.message}"


@dataclass(frozen=True)
class LintReport:
    """Every finding, by file and line."""

    files: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)

    def as_dict(self) -> dict[str, object]:
        return {"files": self.files, "errors": self.errors, "warnings": self.warnings,
                "findings": [f.as_dict() for f in self.findings]}


@dataclass
class _File:
    path: str
    text: str
    doc: Document | None = None
    anchors: set[str] = field(default_factory=set)
    links: list[tuple[int, str]] = field(default_factory=list)


def _headings_and_links(f: _File, out: list[Finding]) -> None:
    """Heading anchors (duplicates reported) and every link with its line."""
    tokens = _MD.parse(f.text)
    lines = f.text.splitlines()
    stack: list[tuple[int, str]] = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            level = int(tok.tag[1:])
            heading = _text(tokens[i + 1])
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            ident = anchor([h for _, h in stack])
            if ident in f.anchors:
                out.append(Finding(f.path, tok.map[0] + 1, "error", "heading-duplicate",
                                   f"heading {' > '.join(h for _, h in stack)!r} appears twice: citations and links "
                                   "cannot tell the sections apart"))
            f.anchors.add(ident)
        if tok.type == "inline" and tok.map and tok.children:
            for child in tok.children:
                href = child.attrGet("href") if child.type == "link_open" else (
                    child.attrGet("src") if child.type == "image" else None)
                if href:
                    f.links.append((_line_of(lines, tok.map, str(href)), str(href)))


def _text(token: Token) -> str:
    if not token.children:
        return token.content.strip() or "(untitled)"
    return "".join(c.content for c in token.children if c.type in ("text", "code_inline")).strip() or "(untitled)"


def _line_of(lines: list[str], span: list[int], href: str) -> int:
    for n in range(span[0], span[1]):
        if href in lines[n] or unquote(href) in lines[n]:
            return n + 1
    return span[0] + 1


def _front_matter(f: _File, out: list[Finding], today: dt.date) -> tuple[str, str]:
    """Front matter checks; returns the document's (type, client)."""
    lines = f.text.splitlines()
    if not lines or lines[0].strip() != "---":
        out.append(Finding(f.path, 1, "error", "front-matter-missing",
                           "no front matter: start the file with --- and title, type, owner, verified"))
        return "", ""
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        out.append(Finding(f.path, 1, "error", "front-matter-invalid", "front matter is never closed with ---"))
        return "", ""
    raw = "\n".join(lines[1:end])
    try:
        yaml.safe_load(raw)
        meta = parse_meta(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = 2 + (mark.line if mark is not None else 0)
        out.append(Finding(f.path, line, "error", "front-matter-invalid",
                           f"front matter is not valid YAML: {getattr(exc, 'problem', None) or exc}"))
        return "", ""
    except (BadInput, ValueError) as exc:
        out.append(Finding(f.path, 2, "error", "front-matter-invalid", str(exc)))
        return "", ""
    at = front_matter_lines(f.text)

    def add(key: str, severity: str, code: str, message: str) -> None:
        out.append(Finding(f.path, at.get(key, 1), severity, code, message))

    if not meta.type:
        add("type", "error", "type-missing", f"no type: one of {', '.join(DOC_TYPES)}")
    elif meta.type not in DOC_TYPES:
        add("type", "error", "type-unknown", f"unknown type {meta.type!r}: one of {', '.join(DOC_TYPES)}")
    if not meta.owner:
        add("owner", "error", "owner-missing", "no owner: who answers questions this document cannot answer?")
    if not meta.verified:
        add("verified", "warning", "verified-missing", "no verified date: the document counts as due for review")
    elif parse_date(meta.verified) is None:
        add("verified", "error", "verified-invalid", f"verified {meta.verified!r} is not a date (YYYY-MM-DD)")
    elif parse_date(meta.verified) > today:  # type: ignore[operator]
        add("verified", "warning", "verified-future", f"verified {meta.verified} is in the future")
    if meta.review_every and review_days(meta.review_every) is None:
        add("review_every", "error", "review-every-invalid",
            f"review_every {meta.review_every!r} is not a period such as 90d, 12w, 6m or 1y")
    if meta.type == "client" and not meta.client:
        add("type", "error", "client-missing", "a client card needs a client id (client: ...)")
    return meta.type, meta.client


def _links(f: _File, files: dict[str, _File], root: Path, out: list[Finding]) -> None:
    for line, href in f.links:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith("/"):
            continue
        rel = unquote(parts.path)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(f.path), rel)) if rel else f.path
        if target.startswith("../") or target == "..":
            out.append(Finding(f.path, line, "error", "link-broken",
                               f"link {unquote(href)!r} leads outside the content folder"))
            continue
        if target not in files:
            if not (root / target).exists():
                out.append(Finding(f.path, line, "error", "link-broken", f"link {unquote(href)!r}: no file {target}"))
            continue
        want = unquote(parts.fragment)
        if want and want not in files[target].anchors:
            out.append(Finding(f.path, line, "error", "link-broken",
                               f"link {unquote(href)!r}: {target} has no section #{want}"))


def lint(content_dir: Path, today: dt.date, max_bytes: int = 5 * 1048576,
         count: Callable[[str], int] | None = None, budget: int = 320) -> LintReport:
    """Every finding in the content folder; ``count`` (the model's token counter) enables the length check."""
    if not content_dir.is_dir():
        raise BadInput(f"content folder {content_dir} does not exist")
    found, skipped = scan(content_dir, max_bytes)
    out = [Finding(e.path, 1, "warning" if "not a Markdown" in e.reason else "error",
                   "not-markdown" if "not a Markdown" in e.reason else "unreadable", e.reason) for e in skipped]
    files: dict[str, _File] = {}
    for path, raw in found.items():
        try:
            files[path] = _File(path, decode(raw))
        except BadInput as exc:
            out.append(Finding(path, 1, "error", "unreadable", str(exc)))
    cards: dict[str, list[str]] = {}
    clients: list[tuple[str, str]] = []
    for f in files.values():
        kind, client = _front_matter(f, out, today)
        if kind == "client" and client:
            cards.setdefault(client, []).append(f.path)
        elif client:
            clients.append((f.path, client))
        _headings_and_links(f, out)
        try:
            f.doc = parse(f.text, f.path, check_type=False)
        except BadInput:
            continue
        if not f.doc.sections:
            out.append(Finding(f.path, 1, "warning", "empty", "no text yet: nothing of this document is indexed"))
        for section in f.doc.sections if count else ():
            passages = chunk_section(f.path, section, count, budget, 0)  # type: ignore[arg-type]
            if len(passages) > 1:
                out.append(Finding(f.path, section.start_line, "warning", "section-too-long",
                                   f"section {' > '.join(section.heading_path)!r} is cut into {len(passages)} "
                                   f"passages (over {budget} tokens): split it with sub-headings"))
    for f in files.values():
        _links(f, files, content_dir, out)
    for client, paths in cards.items():
        for extra in paths[1:]:
            out.append(Finding(extra, front_matter_lines(files[extra].text).get("client", 1), "error",
                               "client-card-duplicate", f"client {client!r} already has a card: {paths[0]}"))
    for path, client in clients:
        if client not in cards:
            out.append(Finding(path, front_matter_lines(files[path].text).get("client", 1), "error",
                               "client-card-missing", f"client {client!r} has no client card (type: client)"))
    return LintReport(len(found) + len(skipped), tuple(sorted(out, key=lambda x: (x.path, x.line, x.code))))
