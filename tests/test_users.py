"""Users and tokens: shown once, stored hashed, revocable; web sessions; the audit log. Every test runs on
both back ends: SQLite in the data folder and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from kb.errors import BadInput, NotFound, Unavailable
from kb.migrations import FORMAT, NewerFormat
from kb.users import Users

from .pgserver import PgServer

Closing = Callable[[Users], Users]


def test_tokens_authenticate_and_are_stored_hashed(tmp_path: Path, database_url: str, closing: Closing) -> None:
    users = closing(Users(tmp_path, database_url))
    token = users.add("anna", "editor", ["sales", "management", "sales"])
    user = users.authenticate(token)
    assert user is not None and (user.name, user.role, user.groups) == ("anna", "editor", {"sales", "management"})
    assert user.can("reader") and user.can("editor") and not user.can("admin")
    raw = users.db.rows("SELECT * FROM users")
    assert token.split("_")[-1] not in repr(raw)
    for bad in ("", "kb_1_" + "x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "Bearer " + token):
        assert users.authenticate(bad) is None


def test_revoke_and_validation(tmp_path: Path, database_url: str, closing: Closing) -> None:
    users = closing(Users(tmp_path, database_url))
    token = users.add("ivan", "reader")
    with pytest.raises(BadInput):
        users.add("ivan", "reader")
    users.revoke("ivan")
    assert users.authenticate(token) is None and not users.any()
    with pytest.raises(NotFound):
        users.revoke("ivan")
    for name, role, groups in (("a b", "reader", []), ("ok", "boss", []), ("ok", "reader", ["no spaces"])):
        with pytest.raises(BadInput):
            users.add(name, role, groups)
    assert users.authenticate(users.add("ivan", "admin")) is not None


def test_audit_log(tmp_path: Path, database_url: str, closing: Closing) -> None:
    users = closing(Users(tmp_path, database_url))
    users.audit("anna", "ask", "Какая отсрочка?", ["clients/romashka.md"])
    entry = users.audit_log()[0]
    assert (entry.user, entry.action, entry.documents) == ("anna", "ask", ["clients/romashka.md"])


def test_sessions_live_in_the_database_and_end_with_the_user(tmp_path: Path, database_url: str,
                                                             closing: Closing) -> None:
    users = closing(Users(tmp_path, database_url))
    token = users.add("anna", "editor", ["sales"])
    assert users.open_session("kb_1_" + "x" * 43, 60) is None
    opened = users.open_session(token, 60)
    assert opened is not None
    user, sid, csrf = opened
    assert user.name == "anna" and sid not in repr(users.db.rows("SELECT * FROM sessions"))  # only its hash
    other = closing(Users(tmp_path, database_url))  # another server on the same database sees the session
    assert other.session(sid) == (user, csrf) and other.session(sid + "x") is None
    other.close_session(sid)
    assert users.session(sid) is None
    _, sid, _ = users.open_session(token, 60) or (None, "", "")
    users.revoke("anna")
    assert other.session(sid) is None
    expired = users.open_session(users.add("ivan", "reader"), -1)
    assert expired is not None and users.session(expired[1]) is None


def test_one_rate_bucket_is_shared_by_every_server(postgres: PgServer, tmp_path: Path, closing: Closing) -> None:
    url = postgres.database()
    one, two = closing(Users(tmp_path / "a", url)), closing(Users(tmp_path / "b", url))
    rate = 1 / 60  # one a minute: nothing refills during the test
    waits = [(one if i % 2 else two).take("anna", rate, 4) for i in range(6)]
    assert waits[:4] == [0, 0, 0, 0] and all(w > 50 for w in waits[4:])
    assert one.take("ivan", rate, 4) == 0  # buckets are per key


def test_servers_starting_together_migrate_once(postgres: PgServer, tmp_path: Path) -> None:
    url = postgres.database()
    errors: list[BaseException] = []

    def start(i: int) -> None:
        try:
            Users(tmp_path / str(i), url).close()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT format FROM kb_format").fetchall() == [(FORMAT,)]


def test_a_database_of_a_newer_format_is_refused(postgres: PgServer, tmp_path: Path) -> None:
    url = postgres.database()
    Users(tmp_path, url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE kb_format SET format = %s", (FORMAT + 1,))
    with pytest.raises(NewerFormat, match=r"newer kb \(format \d+; this kb reads up to \d+\)"):
        Users(tmp_path, url)


def test_postgres_away_is_503_and_comes_back_by_itself(tmp_path: Path, closing: Closing) -> None:
    server = PgServer()  # its own server: the others' tests keep theirs
    try:
        users = Users(tmp_path, server.database())
        closing(users)
        token = users.add("anna", "reader")
        server.stop()
        with pytest.raises(Unavailable, match="is unavailable; retry shortly") as caught:
            users.authenticate(token)
        assert caught.value.status == 503 and "@127.0.0.1" in str(caught.value)
        server.start()
        assert users.authenticate(token) is not None  # the pool made new connections, nothing was lost
    finally:
        server.close()
