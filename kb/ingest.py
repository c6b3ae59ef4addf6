"""Bring the index in line with the content folder: incremental, atomic, and tolerant of bad files."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from kb.chunking import Chunk, chunk_document
from kb.embedding import Embedder
from kb.errors import BadInput
from kb.markdown import Document, parse
from kb.spans import spans
from kb.store import SCHEMA_VERSION, Store
from kb.text import terms

log = logging.getLogger(__name__)
MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclass
class FileError:
    """A file that could not be ingested, and why."""

    path: str
    reason: str


@dataclass
class IngestReport:
    """What an ingest did; ``errors`` lists every file skipped, by path, with its reason."""

    files: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    passages: int = 0
    embedded: int = 0
    errors: list[FileError] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class _Source:
    path: str
    digest: str
    size: int
    doc: Document
    chunks: list[Chunk]


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def scan(root: Path, max_bytes: int) -> tuple[dict[str, bytes], list[FileError]]:
    """Read every Markdown file under ``root`` (never following links out of it)."""
    root = root.resolve()
    found: dict[str, bytes] = {}
    errors: list[FileError] = []

    def rel(p: Path) -> str:
        return p.relative_to(root).as_posix()

    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: errors.append(
            FileError(rel(Path(e.filename)) if e.filename else "?", f"unreadable folder: {e.strerror}"))):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in list(dirnames):
            p = here / name
            if p.is_symlink():
                dirnames.remove(name)
                reason = _link_problem(p, root)
                if reason:
                    errors.append(FileError(rel(p), reason))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            p = here / name
            path = rel(p)
            if p.is_symlink():
                reason = _link_problem(p, root)
                if reason:
                    errors.append(FileError(path, reason))
                    continue
            if not name.lower().endswith(MARKDOWN_SUFFIXES):
                errors.append(FileError(path, "not a Markdown file (.md)"))
                continue
            try:
                st = p.stat()
                if not stat.S_ISREG(st.st_mode):
                    errors.append(FileError(path, "not a regular file"))
                    continue
                if st.st_size > max_bytes:
                    errors.append(FileError(
                        path, f"file is {st.st_size / 1048576:.1f} MB, over the {max_bytes / 1048576:.1f} MB limit"))
                    continue
                with open(p, "rb") as fh:
                    found[path] = fh.read(max_bytes + 1)
            except OSError as exc:
                errors.append(FileError(path, f"unreadable: {exc.strerror or exc}"))
    return found, errors


def _link_problem(p: Path, root: Path) -> str | None:
    try:
        target = p.resolve(strict=True)
    except RuntimeError:
        return "symlink loop"
    except OSError as exc:
        return "symlink loop" if exc.errno == 40 else "broken symlink"
    if not _within(target, root):
        return "symlink points outside the content folder (not followed)"
    if target.is_dir():
        return "symlink to a folder inside the content folder (indexed at its real path)"
    return None


def decode(raw: bytes) -> str:
    """UTF-8 text of a file, or :class:`BadInput` saying why it is not text."""
    if b"\x00" in raw[:8192]:
        raise BadInput("binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"invalid UTF-8 at byte {exc.start}") from exc
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise BadInput("empty file")
    return text


def passage_key(model: str, title: str, chunk: Chunk) -> str:
    """Identity of a passage's vector: the model and exactly the text it embeds."""
    return hashlib.sha256(f"{model}\0{chunk.embed_text(title)}".encode()).hexdigest()


def span_vectors(embedder: Embedder, passages: list[tuple[tuple[str, ...], str]]) -> list[np.ndarray]:
    """For each (heading path, text) passage, one vector per answer span (kb.spans), embedded with its heading path.

    Made at ingest so that answering a question runs the model only on the question.
    """
    texts = [[f"{' > '.join(path)}\n{u.text}" for u in spans(text)] for path, text in passages]
    flat = embedder.passages([t for group in texts for t in group])
    out: list[np.ndarray] = []
    at = 0
    for group in texts:
        out.append(flat[at : at + len(group)])
        at += len(group)
    return out


def ingest(
    content_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    max_file_bytes: int,
    chunk_tokens: int,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Make the index at ``index_dir`` match ``content_dir``; the last step is one transaction."""
    if not content_dir.is_dir():
        raise BadInput(f"content folder {content_dir} does not exist")
    store = Store(index_dir, create=True)
    report = IngestReport()
    files, report.errors = scan(content_dir, max_file_bytes)
    report.files = len(files)
    rebuild = store.get_meta("model") != embedder.name or store.get_meta("schema") != SCHEMA_VERSION
    old = {d.path: d for d in store.documents()}
    budget = min(chunk_tokens, embedder.max_tokens - 16)
    changed: list[_Source] = []
    for path, raw in files.items():
        digest = hashlib.sha256(raw).hexdigest()
        if not rebuild and path in old and old[path].hash == digest:
            report.unchanged += 1
            continue
        try:
            doc = parse(decode(raw), path)
            chunks = chunk_document(doc, embedder.count_tokens, budget)
        except BadInput as exc:
            report.errors.append(FileError(path, str(exc)))
            continue
        except (RecursionError, ValueError, IndexError, KeyError) as exc:
            report.errors.append(FileError(path, f"cannot parse: {type(exc).__name__}: {exc}"[:300]))
            continue
        if not chunks:
            report.errors.append(FileError(path, "no text to index"))
            continue
        changed.append(_Source(path, digest, len(raw), doc, chunks))
    failed = {e.path for e in report.errors}
    removed = [p for p in old if p not in files and p not in failed]

    keyed = [(passage_key(embedder.name, s.doc.title, c), c) for s in changed for c in s.chunks]
    known = store.known_vectors(k for k, _ in keyed)
    titles = {id(c): s.doc.title for s in changed for c in s.chunks}
    todo = list({k: c for k, c in keyed if not known.get(k)}.items())  # no vector, or no span vectors yet
    if progress:
        progress(0, len(todo))
    for start in range(0, len(todo), 256):
        part = todo[start : start + 256]
        fresh = [(k, c) for k, c in part if k not in known]
        vecs = embedder.passages([c.embed_text(titles[id(c)]) for _, c in fresh])
        units = span_vectors(embedder, [(c.heading_path, c.text) for _, c in part])
        store.add_vectors(dict(zip((k for k, _ in fresh), vecs)), dict(zip((k for k, _ in part), units)))
        if progress:
            progress(len(part), len(todo))
    # Passages of unchanged files whose span vectors are missing (an interrupted upgrade) get them now.
    unspanned = store.passages_without_spans()
    for start in range(0, len(unspanned), 256):
        rows = unspanned[start : start + 256]
        units = span_vectors(embedder, [(path, text) for _, path, text in rows])
        store.add_vectors({}, dict(zip((k for k, _, _ in rows), units)))
    report.embedded = len(todo) + len(unspanned)

    with store.transaction() as conn:
        for path in removed:
            _delete(conn, old[path].id)
            report.removed += 1
        for src in changed:
            if src.path in old:
                _delete(conn, old[src.path].id)
                report.updated += 1
            else:
                report.added += 1
            _insert(conn, embedder.name, src)
        conn.execute("DELETE FROM vectors WHERE key NOT IN (SELECT key FROM passages)")
        Store.set_meta(conn, "model", embedder.name)
        Store.set_meta(conn, "dim", str(embedder.dim))
        Store.set_meta(conn, "schema", SCHEMA_VERSION)
        generation = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        Store.set_meta(conn, "generation", str(int(generation[0]) + 1 if generation else 1))
    report.passages = store.counts()["passages"]
    return report


def _delete(conn: sqlite3.Connection, doc_id: int) -> None:
    conn.execute("DELETE FROM passages_fts WHERE rowid IN (SELECT id FROM passages WHERE doc_id = ?)", (doc_id,))
    conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))


def _insert(conn: sqlite3.Connection, model: str, src: _Source) -> None:
    m = src.doc.meta
    meta = {
        "title": src.doc.title, "type": m.type, "client": m.client, "products": list(m.products),
        "owner": m.owner, "verified": m.verified, "review_every": m.review_every, "tags": list(m.tags),
        "access": list(m.access), **m.extra,  # other front matter as written (lists and mappings too: aliases)
    }
    cur = conn.execute(
        "INSERT INTO documents(path, hash, title, type, client, owner, verified, review_every, meta, size)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (src.path, src.digest, src.doc.title, m.type, m.client, m.owner, m.verified, m.review_every,
         json.dumps(meta, ensure_ascii=False, default=str), src.size),
    )
    doc_id = cur.lastrowid
    labels = [("product", v) for v in m.products] + [("tag", v) for v in m.tags] + [("access", v) for v in m.access]
    conn.executemany("INSERT INTO labels(doc_id, kind, value) VALUES (?, ?, ?)", [(doc_id, k, v) for k, v in labels])
    for order, chunk in enumerate(src.chunks):
        cur = conn.execute(
            "INSERT INTO passages(doc_id, key, ord, heading, heading_path, text, start_line, end_line)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (doc_id, passage_key(model, src.doc.title, chunk), order, chunk.heading,
             json.dumps(list(chunk.heading_path), ensure_ascii=False), chunk.text, chunk.start_line, chunk.end_line),
        )
        conn.execute(
            "INSERT INTO passages_fts(rowid, terms) VALUES (?, ?)",
            (cur.lastrowid, " ".join(terms(chunk.embed_text(src.doc.title)))),
        )
