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
from typing import Any

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
    # 3: web sessions and rate limits in the database, so that every server behind a load balancer sees them
    [
        """CREATE TABLE IF NOT EXISTS sessions (
            id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL,
            csrf TEXT NOT NULL,
            expires REAL NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS rate_buckets (
            key TEXT PRIMARY KEY,
            tokens REAL NOT NULL,
            at REAL NOT NULL)""",
    ],
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


# The same formats on PostgreSQL (KB_DATABASE_URL): PG_MIGRATIONS[n - 1] brings it from format n - 1 to n. No
# PostgreSQL database predates format 1, so format 1 is already the shape SQLite reaches at format 2. Besides the
# users' data, PostgreSQL holds the index generations every server loads (kb.generations) and which server
# serves which generation.
PG_MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE gaps (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            question TEXT NOT NULL,
            client TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL,
            owner TEXT NOT NULL DEFAULT '',
            created DOUBLE PRECISION NOT NULL,
            question_id BIGINT,
            nearest TEXT NOT NULL DEFAULT '[]',
            vec BYTEA,
            model TEXT NOT NULL DEFAULT '',
            answered_at DOUBLE PRECISION,
            answer_path TEXT NOT NULL DEFAULT '',
            answer_anchor TEXT NOT NULL DEFAULT '')""",
        """CREATE TABLE feedback (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            question TEXT NOT NULL,
            answer TEXT NOT NULL DEFAULT '',
            helpful INTEGER NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            created DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE questions (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            question TEXT NOT NULL,
            client TEXT NOT NULL DEFAULT '',
            answered INTEGER NOT NULL,
            verdict TEXT NOT NULL,
            confidence DOUBLE PRECISION NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            nearest TEXT NOT NULL DEFAULT '[]',
            vec BYTEA,
            model TEXT NOT NULL DEFAULT '',
            created DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX questions_by_client ON questions(client)",
        """CREATE TABLE seen_documents (
            path TEXT PRIMARY KEY,
            hash TEXT NOT NULL,
            verified TEXT NOT NULL,
            sections TEXT NOT NULL)""",
        """CREATE TABLE changes (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            path TEXT NOT NULL,
            heading_path TEXT NOT NULL,
            kind TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX changes_by_path ON changes(path, at)",
        """CREATE TABLE users (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            groups TEXT NOT NULL,
            salt TEXT NOT NULL,
            token_hash TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL,
            revoked DOUBLE PRECISION)""",
        """CREATE TABLE audit (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            at DOUBLE PRECISION NOT NULL,
            "user" TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL,
            documents TEXT NOT NULL)""",
    ],
    [],  # 2: the gap columns are in format 1 already
    [
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            user_id BIGINT NOT NULL,
            csrf TEXT NOT NULL,
            expires DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE rate_buckets (
            key TEXT PRIMARY KEY,
            tokens DOUBLE PRECISION NOT NULL,
            at DOUBLE PRECISION NOT NULL)""",
        # An index generation: its rows land in one transaction with it, so a generation that is listed is whole.
        """CREATE TABLE index_generations (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            created DOUBLE PRECISION NOT NULL,
            meta TEXT NOT NULL,
            documents INTEGER NOT NULL,
            passages INTEGER NOT NULL,
            published_by TEXT NOT NULL)""",
        """CREATE TABLE index_documents (
            generation BIGINT NOT NULL REFERENCES index_generations(id) ON DELETE CASCADE,
            id BIGINT NOT NULL,
            path TEXT NOT NULL,
            hash TEXT NOT NULL,
            title TEXT NOT NULL,
            type TEXT NOT NULL,
            client TEXT NOT NULL,
            owner TEXT NOT NULL,
            verified TEXT NOT NULL,
            review_every TEXT NOT NULL,
            meta TEXT NOT NULL,
            size BIGINT NOT NULL,
            labels TEXT NOT NULL,
            PRIMARY KEY (generation, id))""",
        """CREATE TABLE index_passages (
            generation BIGINT NOT NULL REFERENCES index_generations(id) ON DELETE CASCADE,
            id BIGINT NOT NULL,
            doc_id BIGINT NOT NULL,
            key TEXT NOT NULL,
            ord INTEGER NOT NULL,
            heading TEXT NOT NULL,
            heading_path TEXT NOT NULL,
            text TEXT NOT NULL,
            start_line INTEGER NOT NULL,
            end_line INTEGER NOT NULL,
            terms TEXT NOT NULL,
            PRIMARY KEY (generation, id))""",
        "CREATE INDEX index_passages_by_key ON index_passages(key)",
        # Vectors are content-addressed (a passage's key hashes model, heading path and text): shared by every
        # generation that has the passage, embedded once by whichever server ingested it first.
        """CREATE TABLE index_vectors (
            key TEXT PRIMARY KEY,
            vec BYTEA NOT NULL,
            spans BYTEA)""",
        """CREATE TABLE servers (
            name TEXT PRIMARY KEY,
            generation BIGINT NOT NULL,
            started DOUBLE PRECISION NOT NULL,
            seen DOUBLE PRECISION NOT NULL)""",
    ],
]

# Two servers starting at once: the second waits on this lock, then finds nothing left to do.
PG_MIGRATION_LOCK = 0x6B62_0001


def migrate_postgres(tx: Any, where: str) -> int:
    """Bring the PostgreSQL database (inside the transaction ``tx``, a kb.db.Tx) to ``FORMAT``; the format it
    had. A database of a newer format is refused without a write."""
    tx.run("SELECT pg_advisory_xact_lock(?)", (PG_MIGRATION_LOCK,))
    tx.run("CREATE TABLE IF NOT EXISTS kb_format (format INTEGER NOT NULL)")
    row = tx.row("SELECT format FROM kb_format")
    found = int(row[0]) if row else 0
    if found > FORMAT:
        raise NewerFormat(f"the data in {where} was written by a newer kb (format {found}; this kb reads up to"
                          f" {FORMAT}): upgrade kb")
    for number in range(found + 1, FORMAT + 1):
        for sql in PG_MIGRATIONS[number - 1]:
            tx.run(sql)
    if row is None:
        tx.run("INSERT INTO kb_format(format) VALUES (?)", (FORMAT,))
    elif found != FORMAT:
        tx.run("UPDATE kb_format SET format = ?", (FORMAT,))
    return found
