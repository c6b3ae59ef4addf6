"""The format of the data database (``KB_DATA_DIR/data.sqlite``) and its numbered migrations.

The format is SQLite's ``PRAGMA user_version``: 0 is a database from before formats were recorded. Opening
the database runs the migrations it lacks, in order, in one ``BEGIN IMMEDIATE`` transaction: a second
process opening it at the same moment waits for the first and then finds nothing left to do. A database
of a newer format than this kb knows is refused, never touched.

To change the data schema, append a migration to ``MIGRATIONS``: never edit or reorder the ones there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from kb.errors import StoreError

DATA_NAME = "data.sqlite"


class NewerFormat(StoreError):
    """The data or index was written by a newer kb than this one: it is refused, not touched."""

    status = 409
    code = "newer_format"


def _gap_columns(conn: sqlite3.Connection) -> None:
    """Gaps remember their question, nearest passages, vector and answer (added in place by earlier kb
    releases too, so a column may already be there)."""
    columns = {
        "question_id": "INTEGER",
        "nearest": "TEXT NOT NULL DEFAULT '[]'",
        "vec": "BLOB",
        "model": "TEXT NOT NULL DEFAULT ''",
        "answered_at": "REAL",
        "answer_path": "TEXT NOT NULL DEFAULT ''",
        "answer_anchor": "TEXT NOT NULL DEFAULT ''",
    }
    have = {r[1] for r in conn.execute("PRAGMA table_info(gaps)")}
    for column, decl in columns.items():
        if column not in have:
            conn.execute(f"ALTER TABLE gaps ADD COLUMN {column} {decl}")


Migration = list[str] | Callable[[sqlite3.Connection], None]

# MIGRATIONS[n - 1] brings a database from format n - 1 to format n.
MIGRATIONS: list[Migration] = [
    # 1: the tables of the first release (IF NOT EXISTS: a database from before formats has some or all)
    [
        """CREATE TABLE IF NOT EXISTS gaps (
            id INTEGER PRIMARY KEY,
            question TEXT NOT NULL,
            client TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL,
            owner TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS feedback (
            id INTEGER PRIMARY KEY,
            question TEXT NOT NULL,
            answer TEXT NOT NULL DEFAULT '',
            helpful INTEGER NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS questions (
            id INTEGER PRIMARY KEY,
            question TEXT NOT NULL,
            client TEXT NOT NULL DEFAULT '',
            answered INTEGER NOT NULL,
            verdict TEXT NOT NULL,
            confidence REAL NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            nearest TEXT NOT NULL DEFAULT '[]',
            vec BLOB,
            model TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS questions_by_client ON questions(client)",
        """CREATE TABLE IF NOT EXISTS seen_documents (
            path TEXT PRIMARY KEY,
            hash TEXT NOT NULL,
            verified TEXT NOT NULL,
            sections TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS changes (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            heading_path TEXT NOT NULL,
            kind TEXT NOT NULL,
            at REAL NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS changes_by_path ON changes(path, at)",
        """CREATE TABLE IF NOT EXISTS users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            groups TEXT NOT NULL,
            salt TEXT NOT NULL,
            token_hash TEXT NOT NULL,
            created REAL NOT NULL,
            revoked REAL)""",
        """CREATE TABLE IF NOT EXISTS audit (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            user TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL,
            documents TEXT NOT NULL)""",
    ],
    # 2: gaps remember their question, nearest passages, vector and answer
    _gap_columns,
]

FORMAT = len(MIGRATIONS)  # the newest format this kb reads and writes

# The tables a kb data database has at every format: what tells one from any other SQLite file.
KB_TABLES = ("users", "audit", "questions", "feedback", "gaps")


def newer_message(path: Path, found: int) -> str:
    return (f"the data in {path} was written by a newer kb (format {found}; this kb reads up to {FORMAT}):"
            " upgrade kb")


def format_of(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the database on ``conn`` (autocommit mode) to ``FORMAT``; returns the format it had.

    Raises NewerFormat, without writing anything, for a database of a newer format.
    """
    found = format_of(conn)
    if found > FORMAT:
        raise NewerFormat(newer_message(path, found))
    if found == FORMAT:
        return found
    conn.execute("BEGIN IMMEDIATE")  # one migrator at a time; the others wait here (busy timeout)
    try:
        found = format_of(conn)  # read again under the lock: another process may have migrated meanwhile
        if found > FORMAT:
            raise NewerFormat(newer_message(path, found))
        for number in range(found + 1, FORMAT + 1):
            step = MIGRATIONS[number - 1]
            if callable(step):
                step(conn)
            else:
                for sql in step:
                    conn.execute(sql)
        conn.execute(f"PRAGMA user_version = {FORMAT}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return found


def connect(data_dir: Path) -> sqlite3.Connection:
    """The data database of ``data_dir``, created or migrated to this kb's format (WAL, NORMAL sync)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DATA_NAME
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        found = format_of(conn)
        if found > FORMAT:  # refuse before even switching the journal mode
            raise NewerFormat(newer_message(path, found))
        conn.execute("PRAGMA journal_mode=WAL")
        # Each question is written while its asker waits: with WAL, NORMAL commits survive a crash of kb
        # (only a power cut can lose the last ones) and take 0.04 ms against 0.3 ms with an fsync each.
        conn.execute("PRAGMA synchronous=NORMAL")
        migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn
