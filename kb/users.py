"""Users, roles and tokens, in the data database that ingest never touches.

Only a salted hash of each token is stored; the token itself is shown once, when the user is added.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kb.errors import BadInput, NotFound, StoreError
from kb.migrations import connect

ROLES = ("reader", "editor", "admin")
_NAME = re.compile(r"^[\w.@-]{1,64}$", re.UNICODE)
_GROUP = re.compile(r"^[\w-]{1,64}$", re.UNICODE)

@dataclass(frozen=True)
class User:
    """Someone who may use kb: what they may do (role) and which restricted documents they may read (groups)."""

    name: str
    role: str
    groups: frozenset[str] | None  # None: every document (only the single local user of an open server)

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or above."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class AuditEntry:
    at: float
    user: str
    action: str
    detail: str
    documents: list[str]


def _hash(salt: str, secret: str) -> str:
    return hmac.new(salt.encode(), secret.encode(), hashlib.sha256).hexdigest()


class Users:
    """The users and the audit log of one data folder (SQLite, WAL)."""

    def __init__(self, data_dir: Path) -> None:
        self._lock = threading.Lock()
        try:
            self._conn = connect(data_dir)  # created, or migrated to this kb's format (kb.migrations)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the users database in {data_dir}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add(self, name: str, role: str, groups: list[str] | tuple[str, ...] = ()) -> str:
        """Create a user and return their token (shown once; only its hash is kept)."""
        if not _NAME.match(name):
            raise BadInput("a user name is 1-64 letters, digits or . @ _ -")
        if role not in ROLES:
            raise BadInput(f"unknown role {role!r} (one of {', '.join(ROLES)})")
        clean = sorted({g.strip() for g in groups if g.strip()})
        if any(not _GROUP.match(g) for g in clean):
            raise BadInput("a group name is 1-64 letters, digits, _ or -")
        salt = secrets.token_hex(16)
        secret = secrets.token_urlsafe(32)
        with self._lock:
            if self._conn.execute("SELECT 1 FROM users WHERE name = ? AND revoked IS NULL", (name,)).fetchone():
                raise BadInput(f"user {name!r} exists; revoke it first")
            self._conn.execute("DELETE FROM users WHERE name = ?", (name,))
            cur = self._conn.execute(
                "INSERT INTO users(name, role, groups, salt, token_hash, created) VALUES (?, ?, ?, ?, ?, ?)",
                (name, role, json.dumps(clean), salt, _hash(salt, secret), time.time()),
            )
        return f"kb_{cur.lastrowid}_{secret}"

    def revoke(self, name: str) -> None:
        with self._lock:
            cur = self._conn.execute("UPDATE users SET revoked = ? WHERE name = ? AND revoked IS NULL",
                                     (time.time(), name))
        if cur.rowcount == 0:
            raise NotFound(f"no active user {name!r}")

    def active(self) -> list[User]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT name, role, groups FROM users WHERE revoked IS NULL ORDER BY name").fetchall()
        return [User(r[0], r[1], frozenset(json.loads(r[2]))) for r in rows]

    def any(self) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM users WHERE revoked IS NULL LIMIT 1").fetchone() is not None

    def authenticate(self, token: str) -> User | None:
        """The active user a token belongs to, or None; compares in constant time."""
        m = re.fullmatch(r"kb_(\d{1,12})_([\w-]{20,100})", token or "")
        if not m:
            return None
        with self._lock:
            row = self._conn.execute(
                "SELECT name, role, groups, salt, token_hash FROM users WHERE id = ? AND revoked IS NULL",
                (int(m.group(1)),),
            ).fetchone()
        if row is None or not hmac.compare_digest(_hash(row[3], m.group(2)), row[4]):
            return None
        return User(row[0], row[1], frozenset(json.loads(row[2])))

    def audit(self, user: str, action: str, detail: str, documents: list[str]) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO audit(at, user, action, detail, documents) VALUES (?, ?, ?, ?, ?)",
                (time.time(), user, action, detail, json.dumps(documents, ensure_ascii=False)),
            )

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT at, user, action, detail, documents FROM audit ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]
