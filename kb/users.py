"""Users, roles, tokens and web sessions, in the data database that ingest never touches.

Only a salted hash of each token is stored; the token itself is shown once, when the user is added.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from kb.db import Database, open_database
from kb.errors import BadInput, NotFound

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
    """The users, their web sessions and the audit log: SQLite in the data folder, or PostgreSQL at ``url``."""

    def __init__(self, data_dir: Path, url: str = "") -> None:
        self.db: Database = open_database(data_dir, url)  # created, or migrated to this kb's format

    def close(self) -> None:
        self.db.close()

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
        with self.db.transaction() as tx:
            if tx.row("SELECT 1 FROM users WHERE name = ? AND revoked IS NULL", (name,)):
                raise BadInput(f"user {name!r} exists; revoke it first")
            tx.run("DELETE FROM users WHERE name = ?", (name,))
            user_id = tx.insert(
                "INSERT INTO users(name, role, groups, salt, token_hash, created) VALUES (?, ?, ?, ?, ?, ?)",
                (name, role, json.dumps(clean), salt, _hash(salt, secret), time.time()),
            )
        return f"kb_{user_id}_{secret}"

    def revoke(self, name: str) -> None:
        with self.db.transaction() as tx:
            changed = tx.run("UPDATE users SET revoked = ? WHERE name = ? AND revoked IS NULL", (time.time(), name))
            tx.run("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = ?)", (name,))
        if changed == 0:
            raise NotFound(f"no active user {name!r}")

    def active(self) -> list[User]:
        rows = self.db.rows("SELECT name, role, groups FROM users WHERE revoked IS NULL ORDER BY name")
        return [User(r[0], r[1], frozenset(json.loads(r[2]))) for r in rows]

    def any(self) -> bool:
        return self.db.row("SELECT 1 FROM users WHERE revoked IS NULL LIMIT 1") is not None

    def authenticate(self, token: str) -> User | None:
        """The active user a token belongs to, or None; compares in constant time."""
        m = re.fullmatch(r"kb_(\d{1,12})_([\w-]{20,100})", token or "")
        if not m:
            return None
        row = self.db.row("SELECT name, role, groups, salt, token_hash FROM users WHERE id = ? AND revoked IS NULL",
                          (int(m.group(1)),))
        if row is None or not hmac.compare_digest(_hash(row[3], m.group(2)), row[4]):
            return None
        return User(row[0], row[1], frozenset(json.loads(row[2])))

    # -- web sessions: in the database, so that a cookie from one server is good on every other -------------
    def open_session(self, token: str, seconds: float) -> tuple[User, str, str] | None:
        """A new session for a valid token: (user, session id, CSRF token); None for an unknown token. Only a
        hash of the session id is stored."""
        user = self.authenticate(token)
        if user is None:
            return None
        sid = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = time.time()
        with self.db.transaction() as tx:
            tx.run("DELETE FROM sessions WHERE expires < ?", (now,))
            tx.run("INSERT INTO sessions(id, user_id, csrf, expires) VALUES (?, ?, ?, ?)",
                   (_session_key(sid), int(token.split("_")[1]), csrf, now + seconds))
        return user, sid, csrf

    def session(self, sid: str) -> tuple[User, str] | None:
        """The user of a live session and its CSRF token; None for an unknown, expired or revoked one."""
        if not sid:
            return None
        row = self.db.row(
            "SELECT u.name, u.role, u.groups, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE s.id = ? AND s.expires >= ? AND u.revoked IS NULL", (_session_key(sid), time.time()))
        return None if row is None else (User(row[0], row[1], frozenset(json.loads(row[2]))), row[3])

    def close_session(self, sid: str) -> None:
        self.db.run("DELETE FROM sessions WHERE id = ?", (_session_key(sid),))

    def take(self, key: str, rate: float, burst: float) -> float:
        """A token bucket in the database (``rate`` a second, up to ``burst``) that every server shares: 0 when
        the request may go ahead, else the seconds to wait. PostgreSQL only: the row is locked for the update."""
        now = time.time()
        with self.db.transaction() as tx:
            tx.run("INSERT INTO rate_buckets(key, tokens, at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                   (key, burst, now))
            row = tx.row("SELECT tokens, at FROM rate_buckets WHERE key = ? FOR UPDATE", (key,))
            assert row is not None
            tokens = min(burst, float(row[0]) + max(0.0, now - float(row[1])) * rate)
            granted = tokens >= 1
            tx.run("UPDATE rate_buckets SET tokens = ?, at = ? WHERE key = ?",
                   (tokens - 1 if granted else tokens, now, key))
        return 0.0 if granted else (1 - tokens) / rate

    # -- audit ----------------------------------------------------------------------------------------------
    def audit(self, user: str, action: str, detail: str, documents: list[str]) -> None:
        self.db.run('INSERT INTO audit(at, "user", action, detail, documents) VALUES (?, ?, ?, ?, ?)',
                    (time.time(), user, action, detail, json.dumps(documents, ensure_ascii=False)))

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        rows = self.db.rows('SELECT at, "user", action, detail, documents FROM audit ORDER BY id DESC LIMIT ?',
                            (limit,))
        return [AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]


def _session_key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()
