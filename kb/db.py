"""The users' database: SQLite beside kb (the default), or PostgreSQL shared by several kb servers.

SQL is written once, with ``?`` marks and what both speak (``RETURNING``, ``ON CONFLICT``, double-quoted
names); each back end runs it on its own connections. Foreign errors are translated here: PostgreSQL away
(refused, restarting, pool exhausted) is ``Unavailable`` (503), anything else a ``StoreError``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from kb.errors import StoreError, Unavailable

Row = tuple[Any, ...]


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    who, _, where = rest.rpartition("@")
    return f"{scheme}://{who.split(':', 1)[0]}@{where}"


class _Conn(Protocol):
    def execute(self, sql: Any, args: Any = ...) -> Any: ...


class Tx:
    """Statements on one connection: inside ``Database.transaction()`` they land together or not at all."""

    def __init__(self, conn: _Conn, postgres: bool) -> None:
        self._conn = conn
        self._postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._postgres else sql

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return [tuple(r) for r in self._conn.execute(self._sql(sql), tuple(args)).fetchall()]

    def row(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        r = self._conn.execute(self._sql(sql), tuple(args)).fetchone()
        return None if r is None else tuple(r)

    def run(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        return int(self._conn.execute(self._sql(sql), tuple(args)).rowcount)

    def insert(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one INSERT; the new row's id."""
        r = self._conn.execute(self._sql(sql) + " RETURNING id", tuple(args)).fetchone()
        return int(r[0])

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(r) for r in rows]
        if not rows:
            return
        if self._postgres:
            with self._conn.cursor() as cur:  # type: ignore[attr-defined]
                cur.executemany(self._sql(sql), rows)
        else:
            self._conn.executemany(sql, rows)  # type: ignore[attr-defined]


class Database:
    """One users' database; ``rows``, ``row``, ``run``, ``insert`` and ``run_many`` each commit on their own."""

    postgres = False
    where = ""

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        raise NotImplementedError
        yield  # pragma: no cover

    @contextmanager
    def _statement(self) -> Iterator[Tx]:
        raise NotImplementedError
        yield  # pragma: no cover

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with self._statement() as tx:
            return tx.rows(sql, args)

    def row(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        with self._statement() as tx:
            return tx.row(sql, args)

    def run(self, sql: str, args: Sequence[Any] = ()) -> int:
        with self._statement() as tx:
            return tx.run(sql, args)

    def insert(self, sql: str, args: Sequence[Any] = ()) -> int:
        with self._statement() as tx:
            return tx.insert(sql, args)

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.transaction() as tx:
            tx.run_many(sql, rows)

    def close(self) -> None:
        raise NotImplementedError


class SQLiteDatabase(Database):
    """``KB_DATA_DIR/data.sqlite``: one connection (WAL) shared under a lock, as a single server needs."""

    def __init__(self, data_dir: Path) -> None:
        from kb.migrations import DATA_NAME, connect

        self.path = data_dir / DATA_NAME
        self.where = str(self.path)
        self._lock = threading.Lock()
        try:
            self._conn = connect(data_dir)  # created, or migrated to this kb's format (kb.migrations)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the data store {self.path}: {exc}") from exc

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection (backup and restore copy the file through it)."""
        return self._conn

    @contextmanager
    def _statement(self) -> Iterator[Tx]:
        with self._lock:
            try:
                yield Tx(self._conn, False)
            except sqlite3.Error as exc:
                raise StoreError(f"data store {self.path}: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield Tx(self._conn, False)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"data store {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresDatabase(Database):
    """``KB_DATABASE_URL=postgresql://…``: a small pool of connections, checked before use, so that a
    restarted PostgreSQL costs the requests made while it is away (503) and nothing after."""

    postgres = True

    def __init__(self, url: str, max_size: int = 8, timeout: float = 5.0) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        from kb.migrations import migrate_postgres

        self.url = url
        self.where = redact(url)
        self._errors = (psycopg.Error, )
        self._away = (psycopg.OperationalError, )
        self.pool = ConnectionPool(url, min_size=1, max_size=max_size, timeout=timeout, open=False,
                                   kwargs={"autocommit": True, "connect_timeout": max(1, int(timeout))},
                                   check=ConnectionPool.check_connection, name="kb-data")
        self.pool.open(wait=False)
        try:
            with self.transaction() as tx:
                migrate_postgres(tx, self.where)
        except BaseException:
            self.pool.close()
            raise

    def _translate(self, exc: Exception) -> StoreError:
        from psycopg_pool import PoolTimeout

        if isinstance(exc, (PoolTimeout, *self._away)):
            return Unavailable(f"the database {self.where} is unavailable; retry shortly ({str(exc).strip()[:200]})")
        return StoreError(f"data store {self.where}: {str(exc).strip()[:300]}")

    @contextmanager
    def _statement(self) -> Iterator[Tx]:
        from psycopg_pool import PoolTimeout

        try:
            with self.pool.connection() as conn:
                yield Tx(conn, True)
        except (PoolTimeout, *self._errors) as exc:
            raise self._translate(exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        from psycopg_pool import PoolTimeout

        try:
            with self.pool.connection() as conn, conn.transaction():
                yield Tx(conn, True)
        except (PoolTimeout, *self._errors) as exc:
            raise self._translate(exc) from exc

    @contextmanager
    def raw(self, snapshot: bool = False) -> Iterator[Any]:
        """A psycopg connection inside one transaction (REPEATABLE READ with ``snapshot``: one consistent view
        for a long read), for what the common SQL cannot say (COPY, ``= ANY``); errors translated as above."""
        from psycopg import IsolationLevel
        from psycopg_pool import PoolTimeout

        try:
            with self.pool.connection() as conn:
                conn.isolation_level = IsolationLevel.REPEATABLE_READ if snapshot else None
                try:
                    with conn.transaction():
                        yield conn
                finally:
                    conn.isolation_level = None
        except (PoolTimeout, *self._errors) as exc:
            raise self._translate(exc) from exc

    def close(self) -> None:
        self.pool.close()


def open_database(data_dir: Path, url: str = "") -> Database:
    """The users' database: PostgreSQL when ``url`` is a ``postgresql://`` URL, else SQLite in ``data_dir``."""
    if url and not is_postgres(url):
        from kb.errors import BadInput

        raise BadInput(f"KB_DATABASE_URL must start with postgresql:// (got {redact(url)!r})")
    return PostgresDatabase(url) if url else SQLiteDatabase(data_dir)
