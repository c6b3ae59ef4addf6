"""Users and tokens: shown once, stored hashed, revocable; the audit log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kb.errors import BadInput, NotFound
from kb.users import Users


def test_tokens_authenticate_and_are_stored_hashed(tmp_path: Path) -> None:
    users = Users(tmp_path)
    token = users.add("anna", "editor", ["sales", "management", "sales"])
    user = users.authenticate(token)
    assert user is not None and (user.name, user.role, user.groups) == ("anna", "editor", {"sales", "management"})
    assert user.can("reader") and user.can("editor") and not user.can("admin")
    raw = sqlite3.connect(tmp_path / "data.sqlite").execute("SELECT * FROM users").fetchall()
    assert token.split("_")[-1] not in repr(raw)
    for bad in ("", "kb_1_" + "x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "Bearer " + token):
        assert users.authenticate(bad) is None


def test_revoke_and_validation(tmp_path: Path) -> None:
    users = Users(tmp_path)
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


def test_audit_log(tmp_path: Path) -> None:
    users = Users(tmp_path)
    users.audit("anna", "ask", "Какая отсрочка?", ["clients/romashka.md"])
    entry = users.audit_log()[0]
    assert (entry.user, entry.action, entry.documents) == ("anna", "ask", ["clients/romashka.md"])
