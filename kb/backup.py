"""A consistent copy of the users' data, taken with SQLite's online backup while kb keeps serving; and
putting such a copy back (``restore``), which is refused while a server uses the data.

How a running server is told: each server process holds a *shared* ``flock`` on ``KB_DATA_DIR/server.lock``
(with its PID written in, for the message) from start-up to exit; ``restore`` takes an *exclusive* lock on
the same file without waiting, so it fails while any server holds it. The kernel drops the lock when a
process ends, even by ``kill -9``: a stale file never blocks a restore. A server starting during a restore
waits for it. Besides, restore switches the live database out of WAL mode before replacing it, which SQLite
refuses while any other connection (a ``kb`` command, a server without the lock) has it open.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from kb.errors import BadInput, StoreError
from kb.migrations import DATA_NAME, FORMAT, KB_TABLES, NewerFormat, format_of, migrate, newer_message

LOCK_NAME = "server.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks; restore relies on SQLite's check alone
    fcntl = None  # type: ignore[assignment]


class DataInUse(StoreError):
    """The data is in use by a running server (or another kb process): it cannot be replaced now."""

    status = 409
    code = "data_in_use"


def backup(data_dir: Path, target: Path) -> None:
    source = data_dir / DATA_NAME
    if not source.exists():
        raise BadInput(f"no data to back up in {data_dir}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    try:
        src = sqlite3.connect(source, timeout=30)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        tmp.replace(target)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"backup failed: {exc}") from exc


# -- the server lock -----------------------------------------------------------------------------------
class ServerLock:
    """Held by a serving process while it runs: ``lock = ServerLock.hold(data_dir)`` ... ``lock.release()``."""

    def __init__(self, file: IO[str]) -> None:
        self._file: IO[str] | None = file

    @classmethod
    def hold(cls, data_dir: Path, wait: float = 60.0) -> ServerLock:
        """Take the shared server lock (several server processes may share one data folder); waits up to
        ``wait`` seconds while a restore holds it."""
        data_dir.mkdir(parents=True, exist_ok=True)
        f = open(data_dir / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        if fcntl is not None:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        f.close()
                        raise DataInUse(f"the data in {data_dir} is being restored: try again soon") from None
                    time.sleep(0.2)
        f.write(f"{os.getpid()}\n")  # appended: one line per server process, for the message only
        f.flush()
        return cls(f)

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None

    def __enter__(self) -> ServerLock:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except OSError:  # alive, another user's
        return True
    return True


class _RestoreLock:
    """The exclusive side of the server lock, taken without waiting."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._file = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
        if fcntl is None:
            return
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            pids = ", ".join(sorted({p for p in self._file.read().split() if _alive(p)})) or "?"
            self._file.close()
            raise DataInUse(f"a kb server is using {data_dir} (process {pids}): stop it, then restore") from None
        self._file.truncate(0)  # no server holds the lock: the PIDs written are of servers gone

    def __enter__(self) -> _RestoreLock:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._file.close()


def server_running(data_dir: Path) -> bool:
    """True while a kb server holds ``data_dir`` (see ``ServerLock``)."""
    if not (data_dir / LOCK_NAME).exists():
        return False
    try:
        with _RestoreLock(data_dir):
            return False
    except DataInUse:
        return True


# -- restore -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RestoreReport:
    path: Path  # the data database restored
    kept: Path | None  # where the database it replaced was kept, if there was one
    format_found: int  # the backup's data format (older ones are migrated)
    counts: dict[str, int]  # rows per table: users, questions, feedback, gaps, audit


def count_rows(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in KB_TABLES}


def _aside(path: Path) -> Path:
    """``<name>.before-restore``, or ``.before-restore.2``… so no earlier one is overwritten."""
    kept = path.with_name(path.name + ".before-restore")
    n = 2
    while kept.exists():
        kept = path.with_name(f"{path.name}.before-restore.{n}")
        n += 1
    return kept


def _prepare(source: Path, tmp: Path) -> tuple[int, dict[str, int]]:
    """Copy the backup at ``source`` to ``tmp``, check it is kb data this kb can read, migrate it; one file
    (rollback journal, no WAL) ready to be moved into place."""
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise BadInput(f"{source} cannot be opened: {exc}") from exc
    try:
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            try:
                src.backup(dst)
                ok = dst.execute("PRAGMA quick_check").fetchone()[0]
                tables = {r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            except sqlite3.DatabaseError as exc:
                raise BadInput(f"{source} is not a kb data backup: {exc}") from exc
            if ok != "ok":
                raise BadInput(f"{source} is damaged: {ok}")
            if missing := [t for t in KB_TABLES if t not in tables]:
                raise BadInput(f"{source} is not a kb data backup (no {', '.join(missing)} table)")
            found = format_of(dst)
            if found > FORMAT:
                raise NewerFormat(newer_message(source, found))
            dst.execute("PRAGMA journal_mode=DELETE")
            migrate(dst, source)
            return found, count_rows(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _quiesce(live: Path) -> None:
    """Fold the live database's WAL into it and leave it in rollback-journal mode, so the file alone is the
    whole database; SQLite refuses while any other connection has it open."""
    try:
        conn = sqlite3.connect(live, timeout=1, isolation_level=None)
    except sqlite3.Error:
        return  # damaged: it is moved aside as it is
    try:
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            raise DataInUse(f"{live} is open in another kb process: stop it, then restore")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DataInUse(f"{live} is open in another kb process: stop it, then restore") from exc
    except sqlite3.DatabaseError:
        pass  # damaged ("file is not a database", "malformed"): moved aside as it is
    finally:
        conn.close()


def restore(data_dir: Path, source: Path) -> RestoreReport:
    """Put the ``kb backup`` copy at ``source`` back as the data of ``data_dir``.

    Refused while a server uses the data. The backup is checked (a kb data database, not damaged, of a
    format this kb reads) and migrated to this kb's format in a temporary file next to the data, which then
    replaces it at once (``os.replace``); the database replaced is kept as ``data.sqlite.before-restore``.
    """
    if not source.is_file():
        raise BadInput(f"no backup at {source}")
    data_dir.mkdir(parents=True, exist_ok=True)
    live = data_dir / DATA_NAME
    tmp = data_dir / (DATA_NAME + ".restoring")
    with _RestoreLock(data_dir):
        tmp.unlink(missing_ok=True)
        try:
            found, counts = _prepare(source, tmp)
            kept: Path | None = None
            if live.exists():
                _quiesce(live)
            aside = _aside(live)
            if live.exists():
                kept = aside
                try:
                    os.link(live, kept)  # the old database stays whole under its new name...
                except OSError:  # a file system without hard links
                    shutil.copy2(live, kept)
            for suffix in ("-wal", "-shm"):  # ...with what is left of a damaged or deleted one's WAL, never to
                side = live.with_name(live.name + suffix)  # be applied to the restored one
                if side.exists():
                    os.replace(side, aside.with_name(aside.name + suffix))
            os.replace(tmp, live)  # ...and the restored one takes its place at once
        except sqlite3.Error as exc:
            raise StoreError(f"restore failed: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
            for suffix in ("-journal", "-wal", "-shm"):
                tmp.with_name(tmp.name + suffix).unlink(missing_ok=True)
    return RestoreReport(path=live, kept=kept, format_found=found, counts=counts)
