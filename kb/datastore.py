"""Data that ingest never touches, in its own database (SQLite in WAL mode, or PostgreSQL): questions asked,
knowledge gaps, feedback, and what kb last saw of each document (to tell which sections changed)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.db import Database, open_database
from kb.migrations import DATA_NAME


@dataclass(frozen=True)
class GapRow:
    """One question kb could not answer well: refused, uncertain or marked not helpful."""

    id: int
    question: str
    client: str
    reason: str
    owner: str
    nearest: tuple[str, ...]
    created: float
    vec: np.ndarray | None = None
    answered_at: float | None = None
    answer_path: str = ""
    answer_anchor: str = ""


@dataclass(frozen=True)
class QuestionRow:
    """A question as asked, what kb made of it and where its answer came from."""

    id: int
    question: str
    client: str
    answered: bool
    verdict: str
    confidence: float
    source: dict[str, Any] | None
    nearest: tuple[str, ...]
    created: float
    vec: np.ndarray | None = None


@dataclass(frozen=True)
class SeenDocument:
    """What kb last saw of a document: its hash, ``verified`` date and a digest per section."""

    path: str
    hash: str
    verified: str
    sections: dict[str, str]


@dataclass(frozen=True)
class Change:
    """A document or section added, changed, removed, or a document marked verified; ``at`` is when kb saw it."""

    path: str
    heading_path: tuple[str, ...]
    kind: str
    at: float


def _vec(blob: bytes | None, model: str, want: str) -> np.ndarray | None:
    if blob is None or model != want:
        return None
    return np.frombuffer(blob, dtype=np.float32)


def _blob(vec: np.ndarray | None) -> bytes | None:
    return None if vec is None else np.asarray(vec, dtype=np.float32).tobytes()


class DataStore:
    """The users' data: SQLite under ``KB_DATA_DIR``, or PostgreSQL at ``url`` (``KB_DATABASE_URL``)."""

    def __init__(self, data_dir: Path, url: str = "") -> None:
        self.path = data_dir / DATA_NAME
        # Created, or migrated to this kb's format (kb.migrations); a newer format is refused.
        self.db: Database = open_database(data_dir, url)

    def close(self) -> None:
        self.db.close()

    # -- questions --------------------------------------------------------------------------
    def record_question(self, question: str, client: str, answered: bool, verdict: str, confidence: float,
                        source: dict[str, Any] | None, nearest: Iterable[str], vec: np.ndarray | None,
                        model: str) -> int:
        return self.db.insert(
            "INSERT INTO questions(question, client, answered, verdict, confidence, source, nearest, vec, model,"
            " created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (question, client, int(answered), verdict, confidence,
             json.dumps(source, ensure_ascii=False) if source else "", json.dumps(list(nearest)),
             _blob(vec), model, time.time()),
        )

    _QUESTION = ("SELECT id, question, client, answered, verdict, confidence, source, nearest, created, vec, model"
                 " FROM questions")

    def _question(self, r: tuple[Any, ...], model: str) -> QuestionRow:
        return QuestionRow(id=r[0], question=r[1], client=r[2], answered=bool(r[3]), verdict=r[4],
                           confidence=r[5], source=json.loads(r[6]) if r[6] else None,
                           nearest=tuple(json.loads(r[7])), created=r[8], vec=_vec(r[9], r[10], model))

    def questions(self, client: str | None = None, model: str = "") -> list[QuestionRow]:
        """Questions asked, oldest first; only one client's when ``client`` is given."""
        where, args = (" WHERE client = ?", (client,)) if client is not None else ("", ())
        rows = self.db.rows(self._QUESTION + where + " ORDER BY id", args)
        return [self._question(r, model) for r in rows]

    def question(self, question_id: int, model: str = "") -> QuestionRow | None:
        row = self.db.row(self._QUESTION + " WHERE id = ?", (question_id,))
        return None if row is None else self._question(row, model)

    def last_question(self, text: str, model: str = "") -> QuestionRow | None:
        row = self.db.row(self._QUESTION + " WHERE question = ? ORDER BY id DESC LIMIT 1", (text,))
        return None if row is None else self._question(row, model)

    def question_counts(self) -> dict[str, tuple[int, int]]:
        """Per client: questions asked, and how many of them were answered."""
        rows = self.db.rows("SELECT client, count(*), sum(answered) FROM questions GROUP BY client")
        return {r[0]: (int(r[1]), int(r[2] or 0)) for r in rows}

    def set_question_vectors(self, vecs: dict[int, np.ndarray], model: str) -> None:
        self.db.run_many("UPDATE questions SET vec = ?, model = ? WHERE id = ?",
                         [(_blob(v), model, i) for i, v in vecs.items()])

    # -- gaps -------------------------------------------------------------------------------
    def record_gap(self, question: str, reason: str, client: str = "", owner: str = "",
                   nearest: Iterable[str] = (), vec: np.ndarray | None = None, model: str = "",
                   question_id: int | None = None) -> int:
        return self.db.insert(
            "INSERT INTO gaps(question, client, reason, owner, created, question_id, nearest, vec, model)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (question, client, reason, owner, time.time(), question_id, json.dumps(list(nearest)),
             _blob(vec), model),
        )

    def record_feedback(self, question: str, answer: str, helpful: bool, comment: str = "", client: str = "",
                        owner: str = "", nearest: Iterable[str] = (), vec: np.ndarray | None = None, model: str = "",
                        question_id: int | None = None) -> int:
        """Store feedback; "not helpful" also opens a gap (the other arguments say where it belongs)."""
        now = time.time()
        with self.db.transaction() as tx:
            feedback_id = tx.insert(
                "INSERT INTO feedback(question, answer, helpful, comment, created) VALUES (?, ?, ?, ?, ?)",
                (question, answer, int(helpful), comment, now),
            )
            if not helpful:
                tx.run(
                    "INSERT INTO gaps(question, client, reason, owner, created, question_id, nearest, vec, model)"
                    " VALUES (?, ?, 'unhelpful', ?, ?, ?, ?, ?, ?)",
                    (question, client, owner, now, question_id, json.dumps(list(nearest)), _blob(vec), model),
                )
            return feedback_id

    def gaps(self, answered: bool | None = None, model: str = "") -> list[GapRow]:
        """Gap rows, newest first: all of them, or only the open (``answered=False``) or answered ones."""
        where = "" if answered is None else (" WHERE answered_at IS NOT NULL" if answered
                                              else " WHERE answered_at IS NULL")
        rows = self.db.rows(
            "SELECT id, question, client, reason, owner, nearest, created, vec, model, answered_at, answer_path,"
            " answer_anchor FROM gaps" + where + " ORDER BY created DESC, id DESC"
        )
        return [
            GapRow(id=r[0], question=r[1], client=r[2], reason=r[3], owner=r[4], nearest=tuple(json.loads(r[5])),
                   created=r[6], vec=_vec(r[7], r[8], model), answered_at=r[9], answer_path=r[10],
                   answer_anchor=r[11])
            for r in rows
        ]

    def set_gap_vectors(self, vecs: dict[int, np.ndarray], model: str) -> None:
        self.db.run_many("UPDATE gaps SET vec = ?, model = ? WHERE id = ?",
                         [(_blob(v), model, i) for i, v in vecs.items()])

    def answer_gaps(self, ids: Iterable[int], path: str, anchor: str) -> None:
        """Mark the rows of one gap answered by the section at ``path#anchor``."""
        self.db.run_many("UPDATE gaps SET answered_at = ?, answer_path = ?, answer_anchor = ? WHERE id = ?",
                         [(time.time(), path, anchor, i) for i in ids])

    # -- what kb saw of the content -----------------------------------------------------------
    def seen_documents(self) -> dict[str, SeenDocument]:
        rows = self.db.rows("SELECT path, hash, verified, sections FROM seen_documents")
        return {r[0]: SeenDocument(r[0], r[1], r[2], json.loads(r[3])) for r in rows}

    def record_changes(self, seen: Iterable[SeenDocument], gone: Iterable[str], changes: Iterable[Change]) -> None:
        """Remember the documents as they are now and the changes found since the last look, at once."""
        with self.db.transaction() as tx:
            tx.run_many("INSERT INTO seen_documents(path, hash, verified, sections) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT(path) DO UPDATE SET hash = excluded.hash, verified = excluded.verified,"
                        " sections = excluded.sections",
                        [(s.path, s.hash, s.verified, json.dumps(s.sections, ensure_ascii=False)) for s in seen])
            tx.run_many("DELETE FROM seen_documents WHERE path = ?", [(p,) for p in gone])
            tx.run_many("INSERT INTO changes(path, heading_path, kind, at) VALUES (?, ?, ?, ?)",
                        [(c.path, json.dumps(list(c.heading_path), ensure_ascii=False), c.kind, c.at)
                         for c in changes])

    def changes(self, paths: Iterable[str], since: float) -> list[Change]:
        """Changes to these documents since ``since`` (epoch seconds), newest first."""
        paths = list(paths)
        if not paths:
            return []
        marks = ",".join("?" * len(paths))
        rows = self.db.rows(
            f"SELECT path, heading_path, kind, at FROM changes WHERE path IN ({marks}) AND at >= ?"
            " ORDER BY at DESC, id DESC", (*paths, since)
        )
        return [Change(r[0], tuple(json.loads(r[1])), r[2], r[3]) for r in rows]
