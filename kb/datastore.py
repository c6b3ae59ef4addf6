"""Data that ingest never touches: knowledge gaps and feedback, in their own SQLite database (WAL)."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kb.errors import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY,
    question TEXT NOT NULL,
    client TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    question TEXT NOT NULL,
    answer TEXT NOT NULL DEFAULT '',
    helpful INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Gap:
    """A question kb could not answer (or answered unhelpfully), grouped by its text."""

    question: str
    client: str
    reason: str
    owner: str
    count: int
    last_id: int
    last_seen: float


class DataStore:
    """The users' data: a separate database under ``KB_DATA_DIR``."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "data.sqlite"
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open data store {self.path}: {exc}") from exc

    def record_gap(self, question: str, reason: str, client: str = "", owner: str = "") -> int:
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO gaps(question, client, reason, owner, created) VALUES (?, ?, ?, ?, ?)",
                (question, client, reason, owner, time.time()),
            )
            return int(cur.lastrowid or 0)

    def record_feedback(self, question: str, answer: str, helpful: bool, comment: str = "") -> int:
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO feedback(question, answer, helpful, comment, created) VALUES (?, ?, ?, ?, ?)",
                (question, answer, int(helpful), comment, time.time()),
            )
            if not helpful:
                self._conn.execute(
                    "INSERT INTO gaps(question, client, reason, owner, created) VALUES (?, '', 'unhelpful', '', ?)",
                    (question, time.time()),
                )
            return int(cur.lastrowid or 0)

    def gaps(self, limit: int = 100) -> list[Gap]:
        """Open gaps, newest first, one row per question with how often it came up."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT question, client, reason, owner, count(*), max(id), max(created) FROM gaps"
                " GROUP BY lower(trim(question)), client ORDER BY max(created) DESC, max(id) DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [Gap(*r) for r in rows]
