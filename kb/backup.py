"""A consistent copy of the users' data, taken with SQLite's online backup while kb keeps serving."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kb.errors import BadInput, StoreError


def backup(data_dir: Path, target: Path) -> None:
    source = data_dir / "data.sqlite"
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
