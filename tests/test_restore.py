"""kb restore: a backup put back, checked and migrated, atomically, never under a running server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kb.backup import DataInUse, ServerLock, backup, restore, server_running
from kb.cli import main
from kb.errors import BadInput
from kb.migrations import FORMAT, NewerFormat
from kb.service import KnowledgeBase
from kb.settings import Settings
from kb.users import Users

from .test_migrations import first_release, user_version


def fill(settings: Settings) -> str:
    """Users, questions, feedback, gaps and audit entries, made through kb's own APIs; returns a token."""
    kb = KnowledgeBase(settings)
    users = Users(settings.data_dir)
    token = users.add("anna", "editor", ["sales"])
    users.add("ivan", "reader")
    qid = kb.data.record_question("Есть ли скидка у Ромашки?", "romashka", False, "refused", 0.2, None, ["a.md"],
                                  np.ones(4, dtype=np.float32), "m")
    kb.data.record_gap("Есть ли скидка у Ромашки?", "refused", client="romashka", owner="anna", question_id=qid)
    kb.data.record_feedback("Какая отсрочка?", "30 дней", helpful=False, client="romashka")  # and a gap
    kb.data.record_feedback("Кто подписывает?", "Иванов", helpful=True)
    users.audit("anna", "ask", "Есть ли скидка у Ромашки?", ["clients/romashka.md"])
    kb.data.close()
    users.close()
    return token


def assert_all_back(settings: Settings, token: str) -> None:
    kb = KnowledgeBase(settings)
    users = Users(settings.data_dir)
    try:
        user = users.authenticate(token)
        assert user is not None and user.name == "anna" and user.groups == {"sales"}
        assert [u.name for u in users.active()] == ["anna", "ivan"]
        assert [q.question for q in kb.data.questions()] == ["Есть ли скидка у Ромашки?"]
        assert sorted(g.reason for g in kb.data.gaps()) == ["refused", "unhelpful"]
        assert [e.detail for e in users.audit_log()] == ["Есть ли скидка у Ромашки?"]
        feedback = kb.data.db.rows("SELECT question, helpful FROM feedback ORDER BY id")
        assert feedback == [("Какая отсрочка?", 0), ("Кто подписывает?", 1)]
    finally:
        kb.data.close()
        users.close()


COUNTS = {"users": 2, "questions": 1, "feedback": 2, "gaps": 2, "audit": 1}


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(content_dir=tmp_path / "content", index_dir=tmp_path / "index",
                             data_dir=tmp_path / "data")


def test_damaged_data_is_restored_and_kept_aside(settings: Settings, tmp_path: Path) -> None:
    token = fill(settings)
    backup(settings.data_dir, tmp_path / "copy.sqlite")
    live = settings.data_dir / "data.sqlite"
    live.write_bytes(b"garbage" * 1000)  # damaged
    report = restore(settings.data_dir, tmp_path / "copy.sqlite")
    assert report.counts == COUNTS and report.format_found == FORMAT
    assert report.kept == settings.data_dir / "data.sqlite.before-restore"
    assert report.kept.read_bytes() == b"garbage" * 1000  # nothing is lost
    assert_all_back(settings, token)
    assert not list(settings.data_dir.glob("*.restoring*"))


def test_deleted_data_is_restored(settings: Settings, tmp_path: Path) -> None:
    token = fill(settings)
    backup(settings.data_dir, tmp_path / "copy.sqlite")
    for f in settings.data_dir.glob("data.sqlite*"):
        f.unlink()
    report = restore(settings.data_dir, tmp_path / "copy.sqlite")
    assert report.kept is None and report.counts == COUNTS
    assert_all_back(settings, token)


def test_a_deleted_databases_wal_is_moved_aside_not_applied(settings: Settings, tmp_path: Path) -> None:
    token = fill(settings)
    backup(settings.data_dir, tmp_path / "copy.sqlite")
    other = tmp_path / "other"
    other_users = Users(other)  # a WAL with frames of another database, left behind by a deleted one
    other_users.add("mallory", "admin")
    wal = (other / "data.sqlite-wal").read_bytes()
    other_users.close()
    (settings.data_dir / "data.sqlite").unlink()
    (settings.data_dir / "data.sqlite-wal").write_bytes(wal)
    report = restore(settings.data_dir, tmp_path / "copy.sqlite")
    assert report.kept is None
    assert (settings.data_dir / "data.sqlite.before-restore-wal").read_bytes() == wal
    assert not (settings.data_dir / "data.sqlite-wal").exists()
    assert_all_back(settings, token)


def test_later_changes_are_replaced_but_kept(settings: Settings, tmp_path: Path) -> None:
    token = fill(settings)
    backup(settings.data_dir, tmp_path / "copy.sqlite")
    users = Users(settings.data_dir)
    users.revoke("anna")
    users.add("mallory", "admin")
    users.close()
    restore(settings.data_dir, tmp_path / "copy.sqlite")
    report = restore(settings.data_dir, tmp_path / "copy.sqlite")  # a second restore keeps both earlier files
    assert report.kept == settings.data_dir / "data.sqlite.before-restore.2"
    assert_all_back(settings, token)
    kept = sqlite3.connect(settings.data_dir / "data.sqlite.before-restore")
    assert {r[0] for r in kept.execute("SELECT name FROM users WHERE revoked IS NULL")} == {"ivan", "mallory"}
    kept.close()


def test_refused_while_a_server_holds_the_data(settings: Settings, tmp_path: Path) -> None:
    fill(settings)
    backup(settings.data_dir, tmp_path / "copy.sqlite")
    before = (settings.data_dir / "data.sqlite").read_bytes()
    lock = ServerLock.hold(settings.data_dir)
    assert server_running(settings.data_dir)
    with pytest.raises(DataInUse, match="a kb server is using .* stop it, then restore"):
        restore(settings.data_dir, tmp_path / "copy.sqlite")
    assert (settings.data_dir / "data.sqlite").read_bytes() == before
    assert not (settings.data_dir / "data.sqlite.before-restore").exists()
    lock.release()
    assert not server_running(settings.data_dir)
    assert restore(settings.data_dir, tmp_path / "copy.sqlite").counts == COUNTS


def test_refused_while_another_process_has_the_database_open(settings: Settings, tmp_path: Path) -> None:
    fill(settings)
    backup(settings.data_dir, tmp_path / "copy.sqlite")
    users = Users(settings.data_dir)  # a connection SQLite sees, without the server lock
    with pytest.raises(DataInUse, match="open in another kb process"):
        restore(settings.data_dir, tmp_path / "copy.sqlite")
    users.add("late", "reader")  # the live data is untouched and still writable
    users.close()
    assert restore(settings.data_dir, tmp_path / "copy.sqlite").counts == COUNTS


def test_what_is_not_a_readable_kb_backup_is_refused(settings: Settings, tmp_path: Path) -> None:
    fill(settings)
    live = (settings.data_dir / "data.sqlite").read_bytes()
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    other = sqlite3.connect(tmp_path / "other.sqlite")
    other.execute("CREATE TABLE users (id INTEGER)")
    other.commit()
    other.close()
    newer = tmp_path / "newer"
    first_release(newer)
    conn = sqlite3.connect(newer / "data.sqlite")
    conn.execute(f"PRAGMA user_version = {FORMAT + 1}")
    conn.close()
    with pytest.raises(BadInput, match="not a kb data backup"):
        restore(settings.data_dir, tmp_path / "junk.sqlite")
    with pytest.raises(BadInput, match="not a kb data backup"):
        restore(settings.data_dir, tmp_path / "other.sqlite")
    with pytest.raises(NewerFormat, match=rf"newer kb \(format {FORMAT + 1}; this kb reads up to {FORMAT}\)"):
        restore(settings.data_dir, newer / "data.sqlite")
    with pytest.raises(BadInput, match="no backup"):
        restore(settings.data_dir, tmp_path / "missing.sqlite")
    assert (settings.data_dir / "data.sqlite").read_bytes() == live
    assert not list(settings.data_dir.glob("data.sqlite.*"))


def test_an_older_backup_is_migrated(settings: Settings, tmp_path: Path) -> None:
    old = first_release(tmp_path / "old")
    report = restore(settings.data_dir, old)
    assert report.format_found == 0
    assert report.counts == {"users": 1, "questions": 1, "feedback": 1, "gaps": 1, "audit": 1}
    assert user_version(settings.data_dir / "data.sqlite") == FORMAT
    assert user_version(old) == 0  # the backup itself is only read


def test_kb_restore_command(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = fill(settings)
    monkeypatch.setenv("KB_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    result = runner.invoke(main, ["backup", str(tmp_path / "copy.sqlite")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (settings.data_dir / "data.sqlite").unlink()
    result = runner.invoke(main, ["restore", str(tmp_path / "copy.sqlite")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2 users, 1 questions, 2 feedback, 2 gaps, 1 audit entries" in result.output
    assert_all_back(settings, token)
    lock = ServerLock.hold(settings.data_dir)
    result = runner.invoke(main, ["restore", str(tmp_path / "copy.sqlite")], catch_exceptions=False)
    lock.release()
    assert result.exit_code == 2 and "a kb server is using" in result.output
