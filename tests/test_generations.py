"""Several servers on one PostgreSQL share the index by generations: one ingests and publishes, each loads the
newest into its own SQLite index and FAISS, and nobody embeds again what another embedded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from kb.cli import main
from kb.db import redact
from kb.embedding import Embedder
from kb.service import KnowledgeBase
from kb.settings import Settings
from kb.store import Store

from .conftest import make_settings
from .pgserver import PgServer

Closing = Callable[[KnowledgeBase], KnowledgeBase]


@pytest.fixture()
def two(content: Path, tmp_path: Path, postgres: PgServer) -> tuple[Settings, Settings]:
    """Two servers' settings: one content folder and database, an index and data folder each."""
    one = make_settings(tmp_path / "one", content, postgres.database())
    return one, replace(one, index_dir=tmp_path / "two" / "index", data_dir=tmp_path / "two" / "data")


def edit(content: Path, old: str, new: str) -> None:
    path = content / "clients" / "lastochka.md"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_a_generation_published_by_one_server_is_served_by_the_other(
        two: tuple[Settings, Settings], content: Path, embedder: Embedder, closing: Closing) -> None:
    a, b = closing(KnowledgeBase(two[0], embedder)), closing(KnowledgeBase(two[1], embedder))
    first = a.reindex()
    assert first.embedded > 0 and a.served_generation() == 1
    assert b.index().generation == "1"  # loaded, not ingested: b has never run an ingest
    assert Store(two[1].index_dir).counts() == Store(two[0].index_dir).counts()
    question = "отсрочка платежа Ласточка"
    assert [h.text for h in b.search(question)] == [h.text for h in a.search(question)]
    assert b.reindex().embedded == 0 and b.served_generation() == 1  # nothing changed: no new generation

    edit(content, "30 календарных", "60 календарных")
    report = b.reindex()  # either server may ingest; it starts from the newest generation
    assert (report.updated, report.embedded) == (1, 1) and b.served_generation() == 2
    follower = a.follower()
    assert follower is not None
    follower.check()  # what the follower thread does on NOTIFY, or on its poll
    assert a.served_generation() == 2 and any("60 календарных" in h.text for h in a.search(question))
    env = {"KB_DATABASE_URL": two[0].database_url, "KB_INDEX_DIR": str(two[0].index_dir),
           "KB_DATA_DIR": str(two[0].data_dir), "KB_CONTENT_DIR": str(content)}
    result = CliRunner().invoke(main, ["status", "--json"], env=env, catch_exceptions=False)
    status = json.loads(result.output)
    assert (status["newest"], status["generation"], status["database"]) == (2, 2, two[0].database_url)
    assert [(s["name"], s["generation"]) for s in status["servers"]] == [(follower.name, 2)]
    human = CliRunner().invoke(main, ["status"], env=env, catch_exceptions=False).output
    assert f"server: {follower.name} serves generation 2, seen" in human


def test_a_server_started_later_loads_the_newest_and_old_generations_are_pruned(
        two: tuple[Settings, Settings], content: Path, embedder: Embedder, closing: Closing) -> None:
    a = closing(KnowledgeBase(two[0], embedder))
    for days in ("30", "31", "32", "33", "34"):
        edit(content, "30 календарных" if days == "31" else f"{int(days) - 1} календарных", f"{days} календарных")
        a.reindex()
    assert a.served_generation() == 5
    late = closing(KnowledgeBase(two[1], embedder))
    assert late.index().generation == "5"
    assert any("34 календарных" in h.text for h in late.search("отсрочка платежа Ласточка"))
    with psycopg.connect(two[0].database_url) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM index_generations ORDER BY id")] == [3, 4, 5]
        unused = conn.execute("SELECT count(*) FROM index_vectors v WHERE NOT EXISTS"
                              " (SELECT 1 FROM index_passages p WHERE p.key = v.key)").fetchone()
        assert unused == (0,)


def test_an_index_built_before_the_database_was_shared_is_published_once(
        two: tuple[Settings, Settings], embedder: Embedder, closing: Closing) -> None:
    alone = replace(two[0], database_url="")
    closing(KnowledgeBase(alone, embedder)).reindex()  # `kb ingest` on one server, before KB_DATABASE_URL was set
    a = closing(KnowledgeBase(two[0], embedder))
    assert a.index().generation == "1"
    b = closing(KnowledgeBase(two[1], embedder))
    assert b.index().generation == "1" and b.index().size == a.index().size


def test_an_ingest_killed_while_publishing_leaves_no_generation(two: tuple[Settings, Settings],
                                                                embedder: Embedder, closing: Closing) -> None:
    """`kb ingest` is held half way through writing its generation (a lock on one of the tables), then killed:
    nothing of it is ever listed, and the next ingest publishes whole."""
    settings = two[0]
    url = settings.database_url
    KnowledgeBase(settings, embedder).close()  # the tables exist
    env = {**os.environ, "KB_CONTENT_DIR": str(settings.content_dir), "KB_INDEX_DIR": str(settings.index_dir),
           "KB_DATA_DIR": str(settings.data_dir), "KB_DATABASE_URL": url}
    with psycopg.connect(url) as holder:
        holder.execute("LOCK TABLE index_passages IN EXCLUSIVE MODE")  # reads go on, the publisher's COPY waits
        ingest = subprocess.Popen([sys.executable, "-m", "kb", "ingest", "--json"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with psycopg.connect(url, autocommit=True) as watcher:
            deadline = time.monotonic() + 120
            while not watcher.execute("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                      " AND query LIKE 'COPY index_passages%'").fetchone():
                assert ingest.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
            # the generation row and its documents are written, uncommitted: nobody else sees them
            assert watcher.execute("SELECT count(*) FROM index_generations").fetchone() == (0,)
            ingest.send_signal(signal.SIGKILL)
            ingest.wait()
        holder.rollback()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM index_generations").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM index_documents").fetchone() == (0,)
    served = closing(KnowledgeBase(two[1], embedder))
    report = served.reindex()  # the ingest lock died with the killed process: this one is not kept waiting
    assert report.added == 3 and served.index().size > 0
    with psycopg.connect(url) as conn:
        (documents,) = conn.execute("SELECT documents FROM index_generations").fetchone() or (0,)
        assert documents == 3


def test_a_password_never_shows_in_messages() -> None:
    assert redact("postgresql://kb:s3cret@db.example.com:5432/kb") == "postgresql://kb@db.example.com:5432/kb"
    assert redact("postgresql://db.example.com/kb") == "postgresql://db.example.com/kb"
