"""Formats and upgrades: the data database migrates in place, once, and a newer one is refused untouched;
an index of an older format is rebuilt saying so, one of a newer format is refused."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from kb import migrations
from kb.datastore import DataStore
from kb.embedding import Embedder
from kb.ingest import ingest
from kb.migrations import FORMAT, NewerFormat
from kb.store import SCHEMA_VERSION, Store
from kb.users import Users

# The data database as the first release wrote it (format 0: no user_version, gaps without their later columns).
FIRST_RELEASE = """
CREATE TABLE gaps (id INTEGER PRIMARY KEY, question TEXT NOT NULL, client TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL, owner TEXT NOT NULL DEFAULT '', created REAL NOT NULL);
CREATE TABLE feedback (id INTEGER PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL DEFAULT '',
    helpful INTEGER NOT NULL, comment TEXT NOT NULL DEFAULT '', created REAL NOT NULL);
CREATE TABLE questions (id INTEGER PRIMARY KEY, question TEXT NOT NULL, client TEXT NOT NULL DEFAULT '',
    answered INTEGER NOT NULL, verdict TEXT NOT NULL, confidence REAL NOT NULL, source TEXT NOT NULL DEFAULT '',
    nearest TEXT NOT NULL DEFAULT '[]', vec BLOB, model TEXT NOT NULL DEFAULT '', created REAL NOT NULL);
CREATE TABLE seen_documents (path TEXT PRIMARY KEY, hash TEXT NOT NULL, verified TEXT NOT NULL,
    sections TEXT NOT NULL);
CREATE TABLE changes (id INTEGER PRIMARY KEY, path TEXT NOT NULL, heading_path TEXT NOT NULL, kind TEXT NOT NULL,
    at REAL NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, groups TEXT NOT NULL,
    salt TEXT NOT NULL, token_hash TEXT NOT NULL, created REAL NOT NULL, revoked REAL);
CREATE TABLE audit (id INTEGER PRIMARY KEY, at REAL NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
    detail TEXT NOT NULL, documents TEXT NOT NULL);
INSERT INTO gaps(question, client, reason, owner, created) VALUES ('Есть ли скидка?', 'romashka', 'refused', 'anna', 1);
INSERT INTO feedback(question, answer, helpful, created) VALUES ('Есть ли скидка?', 'нет', 0, 1);
INSERT INTO questions(question, answered, verdict, confidence, created)
    VALUES ('Есть ли скидка?', 0, 'refused', 0.2, 1);
INSERT INTO users(name, role, groups, salt, token_hash, created) VALUES ('anna', 'editor', '["sales"]', 's', 'h', 1);
INSERT INTO audit(at, user, action, detail, documents) VALUES (1, 'anna', 'ask', 'Есть ли скидка?', '[]');
"""


def first_release(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "data.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(FIRST_RELEASE)
    conn.close()
    return path


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_a_database_of_the_previous_format_is_migrated_in_place(tmp_path: Path) -> None:
    path = first_release(tmp_path)
    assert user_version(path) == 0
    data = DataStore(tmp_path)
    assert user_version(path) == FORMAT
    gap = data.gaps()[0]
    assert (gap.question, gap.client, gap.owner, gap.nearest, gap.answered_at) == (
        "Есть ли скидка?", "romashka", "anna", (), None)
    assert [q.question for q in data.questions()] == ["Есть ли скидка?"]
    data.answer_gaps([gap.id], "clients/romashka.md", "faq")  # the columns migration 2 added work
    assert data.gaps(answered=True)[0].answer_path == "clients/romashka.md"
    assert data.record_feedback("Ещё вопрос", "", helpful=False, client="romashka") == 2
    users = Users(tmp_path)
    assert [u.name for u in users.active()] == ["anna"]
    assert users.audit_log()[0].detail == "Есть ли скидка?"
    data.close()
    users.close()
    assert user_version(path) == FORMAT  # opening again changes nothing
    assert len(DataStore(tmp_path).gaps()) == 2


def test_a_new_database_starts_at_the_current_format(tmp_path: Path) -> None:
    Users(tmp_path).add("ivan", "reader")
    assert user_version(tmp_path / "data.sqlite") == FORMAT


def test_a_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    path = first_release(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {FORMAT + 1}")
    conn.close()
    before = path.read_bytes()
    for opener in (DataStore, Users):
        with pytest.raises(NewerFormat) as caught:
            opener(tmp_path)
        assert str(caught.value) == (f"the data in {path} was written by a newer kb (format {FORMAT + 1};"
                                     f" this kb reads up to {FORMAT}): upgrade kb")
    assert path.read_bytes() == before and not (tmp_path / "data.sqlite-wal").exists()


def test_concurrent_opens_migrate_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight connections open a format-0 database at once; each migration runs exactly once (a step that
    cannot run twice: CREATE TABLE without IF NOT EXISTS, and a row counting the runs)."""
    first_release(tmp_path)
    runs = threading.Lock()

    def slow_step(conn: sqlite3.Connection) -> None:
        with runs:
            conn.execute("CREATE TABLE once (n INTEGER)")
            conn.execute("INSERT INTO once VALUES (1)")
        threading.Event().wait(0.05)  # widen the window a second migrator would slip into

    steps = [*migrations.MIGRATIONS, slow_step]
    monkeypatch.setattr(migrations, "MIGRATIONS", steps)
    monkeypatch.setattr(migrations, "FORMAT", len(steps))
    start = threading.Barrier(8)
    errors: list[BaseException] = []
    conns: list[sqlite3.Connection] = []

    def open_it() -> None:
        start.wait()
        try:
            conns.append(migrations.connect(tmp_path))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for c in conns:
        c.close()
    conn = sqlite3.connect(tmp_path / "data.sqlite")
    assert conn.execute("SELECT count(*) FROM once").fetchone()[0] == 1
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(steps)
    conn.close()


def test_an_index_of_a_newer_format_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path, create=True)
    with store.transaction() as conn:
        Store.set_meta(conn, "schema", str(int(SCHEMA_VERSION) + 1))
    for create in (False, True):
        with pytest.raises(NewerFormat, match=rf"written by a newer kb \(format {int(SCHEMA_VERSION) + 1};"
                                              rf" this kb reads up to {SCHEMA_VERSION}\): upgrade kb"):
            Store(tmp_path, create=create)


def test_an_index_of_an_older_format_is_rebuilt_saying_so(content: Path, tmp_path: Path, embedder: Embedder,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    index_dir = tmp_path / "index"
    ingest(content, index_dir, embedder, max_file_bytes=10**6, chunk_tokens=320)
    older = str(int(SCHEMA_VERSION) - 1)
    with sqlite3.connect(index_dir / "index.sqlite") as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (older,))
    assert Store(index_dir).outdated  # still readable until rebuilt
    with caplog.at_level(logging.WARNING, logger="kb.store"):
        report = ingest(content, index_dir, embedder, max_file_bytes=10**6, chunk_tokens=320)
    assert f"index format {older} is older than {SCHEMA_VERSION}: rebuilding (stored vectors are reused)" \
        in caplog.text
    assert report.unchanged == 0 and report.embedded == 0  # every file re-read, no passage re-embedded
    assert Store(index_dir).get_meta("schema") == SCHEMA_VERSION and not Store(index_dir).outdated
