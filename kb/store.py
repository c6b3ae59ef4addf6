"""The index database: documents, passages, their keyword index and vectors, in one SQLite file.

One file makes an ingest one transaction: a crash or kill leaves the last committed index.
The FAISS index is derived from the ``vectors`` table when an index is opened.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.errors import IndexMissing, StoreError
from kb.migrations import NewerFormat

log = logging.getLogger(__name__)

DB_NAME = "index.sqlite"
# 2: lemmatised Russian terms, an e-mail address as one term; 3: span vectors; 4: table rows as spans with headers;
# 5: front matter extras stored as written (aliases lists and mappings), not as strings
SCHEMA_VERSION = "5"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    title TEXT NOT NULL,
    type TEXT NOT NULL,
    client TEXT NOT NULL,
    owner TEXT NOT NULL,
    verified TEXT NOT NULL,
    review_every TEXT NOT NULL,
    meta TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS labels (
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS labels_by_value ON labels(kind, value);
CREATE INDEX IF NOT EXISTS labels_by_doc ON labels(doc_id);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    ord INTEGER NOT NULL,
    heading TEXT NOT NULL,
    heading_path TEXT NOT NULL,
    text TEXT NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_by_doc ON passages(doc_id);
CREATE INDEX IF NOT EXISTS passages_by_key ON passages(key);
-- spans: one float16 vector per answer span of the passage (kb.spans)
CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL, spans BLOB);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(terms, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS passages_vocab USING fts5vocab(passages_fts, row);
"""


@dataclass(frozen=True)
class DocumentRow:
    """A stored document's metadata."""

    id: int
    path: str
    hash: str
    title: str
    type: str
    client: str
    owner: str
    verified: str
    review_every: str
    meta: dict[str, Any]


@dataclass(frozen=True)
class PassageRow:
    """A stored passage with what a citation needs from its document."""

    id: int
    path: str
    title: str
    owner: str
    heading: str
    heading_path: tuple[str, ...]
    text: str
    start_line: int
    end_line: int


def schema_number(value: str | None) -> int:
    """An index's recorded ``schema`` as a number; 0 when none is recorded or it is not a number."""
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class Store:
    """Reads and writes one index database; connections are per thread."""

    def __init__(self, index_dir: Path, create: bool = False) -> None:
        self.path = index_dir / DB_NAME
        if not self.path.exists():
            if not create:
                raise IndexMissing(f"no index in {index_dir}: run `kb ingest` first")
            index_dir.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        try:
            stored = self._stored_schema()
            found = schema_number(stored)
            if found > int(SCHEMA_VERSION):  # refused before anything is written to it
                raise NewerFormat(f"the index in {index_dir} was written by a newer kb (format {found}; this kb"
                                  f" reads up to {SCHEMA_VERSION}): upgrade kb, or delete the index and run"
                                  " `kb ingest`")
            if create:
                self.conn.executescript(_SCHEMA)
                columns = {r[1] for r in self.conn.execute("PRAGMA table_info(vectors)")}
                if "spans" not in columns:  # an index from before span vectors: its vectors are re-made
                    self.conn.execute("ALTER TABLE vectors ADD COLUMN spans BLOB")
            else:
                self.conn.execute("SELECT 1 FROM meta LIMIT 1")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open index {self.path}: {exc}") from exc
        #: the index's format is older than this kb's: ``kb ingest`` rebuilds it, whether content changed or not
        self.outdated = stored is not None and found < int(SCHEMA_VERSION)
        if create and self.outdated:
            log.warning("index format %s is older than %s: rebuilding (stored vectors are reused)", stored,
                        SCHEMA_VERSION)

    def _stored_schema(self) -> str | None:
        """The ``schema`` the index records; None for a new or empty database."""
        has_meta = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        return self.get_meta("schema") if has_meta else None

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: all of it lands, or none."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @staticmethod
    def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- documents --------------------------------------------------------------------------
    _DOCUMENT = "SELECT id, path, hash, title, type, client, owner, verified, review_every, meta FROM documents"

    @staticmethod
    def _document(r: tuple[Any, ...]) -> DocumentRow:
        return DocumentRow(id=r[0], path=r[1], hash=r[2], title=r[3], type=r[4], client=r[5], owner=r[6],
                           verified=r[7], review_every=r[8], meta=json.loads(r[9]))

    def documents(self) -> list[DocumentRow]:
        return [self._document(r) for r in self.conn.execute(self._DOCUMENT + " ORDER BY path")]

    def document(self, path: str) -> DocumentRow | None:
        row = self.conn.execute(self._DOCUMENT + " WHERE path = ?", (path,)).fetchone()
        return None if row is None else self._document(row)

    def counts(self) -> dict[str, int]:
        c = self.conn
        return {
            "documents": int(c.execute("SELECT count(*) FROM documents").fetchone()[0]),
            "passages": int(c.execute("SELECT count(*) FROM passages").fetchone()[0]),
            "vectors": int(c.execute("SELECT count(*) FROM vectors").fetchone()[0]),
        }

    # -- passages ---------------------------------------------------------------------------
    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            "SELECT p.id, d.path, d.title, d.owner, p.heading, p.heading_path, p.text, p.start_line, p.end_line"
            f" FROM passages p JOIN documents d ON d.id = p.doc_id WHERE p.id IN ({marks})",
            ids,
        ).fetchall()
        return {
            r[0]: PassageRow(id=r[0], path=r[1], title=r[2], owner=r[3], heading=r[4],
                             heading_path=tuple(json.loads(r[5])), text=r[6], start_line=r[7], end_line=r[8])
            for r in rows
        }

    def sections(self) -> dict[int, tuple[int, str]]:
        """Every passage's (document id, heading path as stored): which document and section it is in."""
        return {int(r[0]): (int(r[1]), sys.intern(str(r[2])))
                for r in self.conn.execute("SELECT id, doc_id, heading_path FROM passages")}

    def section_texts(self, doc_id: int) -> list[tuple[tuple[str, ...], str]]:
        """A document's passages in order, as (heading path, text)."""
        rows = self.conn.execute(
            "SELECT heading_path, text FROM passages WHERE doc_id = ? ORDER BY ord", (doc_id,)
        ).fetchall()
        return [(tuple(json.loads(r[0])), str(r[1])) for r in rows]

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Passage ids and their vectors, for building the FAISS index."""
        rows = self.conn.execute(
            "SELECT p.id, v.vec FROM passages p JOIN vectors v ON v.key = p.key ORDER BY p.id"
        ).fetchall()
        dim = int(self.get_meta("dim") or 0)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return ids, np.zeros((0, dim), dtype=np.float32)
        vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        return ids, vecs

    def keyword(
        self, query: str, limit: int, allowed: str | None = None, args: tuple[Any, ...] = ()
    ) -> list[tuple[int, float]]:
        """BM25 over stemmed terms: (passage id, score) best first, scores positive."""
        if not query:
            return []
        where = f" AND rowid IN ({allowed})" if allowed else ""
        rows = self.conn.execute(
            f"SELECT rowid, -bm25(passages_fts) AS s FROM passages_fts WHERE passages_fts MATCH ?{where}"
            " ORDER BY s DESC LIMIT ?",
            (query, *args, limit),
        ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    def document_frequencies(self) -> dict[str, int]:
        """How many passages hold each stemmed term."""
        return {str(t): int(n) for t, n in self.conn.execute("SELECT term, doc FROM passages_vocab")}

    def known_vectors(self, keys: Iterable[str]) -> dict[str, bool]:
        """Of ``keys``, those with a stored vector, each with whether its span vectors are stored too."""
        keys = list(keys)
        found: dict[str, bool] = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            found.update((r[0], bool(r[1])) for r in self.conn.execute(
                f"SELECT key, spans IS NOT NULL FROM vectors WHERE key IN ({marks})", part))
        return found

    def add_vectors(self, vecs: dict[str, np.ndarray], spans: dict[str, np.ndarray]) -> None:
        """Passage vectors and span vectors by key, committed at once: they are content-addressed, so a later
        crash wastes no embedding."""
        with self.transaction() as conn:
            conn.executemany("INSERT OR IGNORE INTO vectors(key, vec) VALUES (?, ?)",
                             [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vecs.items()])
            conn.executemany("UPDATE vectors SET spans = ? WHERE key = ?",
                             [(np.asarray(u, dtype=np.float16).tobytes(), k) for k, u in spans.items()])

    def passages_without_spans(self) -> list[tuple[str, tuple[str, ...], str]]:
        """(vector key, heading path, text) of stored passages whose span vectors are missing."""
        rows = self.conn.execute(
            "SELECT DISTINCT p.key, p.heading_path, p.text FROM passages p JOIN vectors v ON v.key = p.key"
            " WHERE v.spans IS NULL").fetchall()
        return [(str(r[0]), tuple(json.loads(r[1])), str(r[2])) for r in rows]

    def terms_of(self, passage_id: int) -> list[str]:
        """The index terms stored for a passage at ingest (of its title, heading path and text)."""
        row = self.conn.execute("SELECT terms FROM passages_fts WHERE rowid = ?", (passage_id,)).fetchone()
        return str(row[0]).split() if row else []

    def span_vectors(self, passage_id: int) -> np.ndarray | None:
        """The passage's span vectors (see kb.spans), or None when it has none."""
        return self.span_vectors_of([passage_id]).get(passage_id)

    def span_vectors_of(self, passage_ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Span vectors by passage id, read in one query per 500 passages; passages without them are left out."""
        ids, counts, vecs = self.span_matrix(passage_ids)
        bounds = np.cumsum([0, *counts])
        return {pid: vecs[a:b] for pid, a, b in zip(ids, bounds[:-1], bounds[1:])}

    def span_matrix(self, passage_ids: Iterable[int]) -> tuple[list[int], list[int], np.ndarray]:
        """The span vectors of these passages as one matrix: passage ids, each one's number of rows, the rows.

        One query per 500 passages and one conversion from float16: the cost of a question does not grow with
        a Python loop over its candidates' spans.
        """
        wanted = list(passage_ids)
        dim = int(self.get_meta("dim") or 0)
        ids: list[int] = []
        counts: list[int] = []
        blobs: list[bytes] = []
        for start in range(0, len(wanted) if dim else 0, 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            for pid, blob in self.conn.execute(
                "SELECT p.id, v.spans FROM passages p JOIN vectors v ON v.key = p.key"
                f" WHERE p.id IN ({marks}) AND v.spans IS NOT NULL AND length(v.spans) > 0", part
            ):
                ids.append(int(pid))
                counts.append(len(blob) // (2 * dim))
                blobs.append(blob)
        vecs = np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(-1, dim or 1).astype(np.float32)
        return ids, counts, vecs
