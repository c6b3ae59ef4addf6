"""Shared fixtures: the real bundled model and real small indexes, built once per session."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kb.embedding import Embedder, load_embedder
from kb.ingest import ingest
from kb.search import Index
from kb.settings import Settings

from .pgserver import PgServer

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The day the demo content is read on: clients/severtrans.md, clients/volga-textile.md and
# policies/gifts-travel.md are overdue for review then, everything else is not.
TODAY = dt.date(2026, 11, 27)


def copy_fixtures(target: Path) -> None:
    """The fixture knowledge base (tests/fixtures without the example import files under crm/)."""
    shutil.copytree(FIXTURES, target, ignore=shutil.ignore_patterns("crm"))


def make_settings(tmp: Path, content: Path, database_url: str = "") -> Settings:
    return Settings.from_env(content_dir=content, index_dir=tmp / "index", data_dir=tmp / "data",
                             database_url=database_url)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgServer]:
    """A real PostgreSQL 15 server for the session (Debian's package, run as an unprivileged user)."""
    server = PgServer()
    yield server
    server.close()


@pytest.fixture()
def closing() -> Iterator[Callable[[T], T]]:
    """``closing(thing)`` returns ``thing`` and closes it after the test (PostgreSQL pools end their threads)."""
    things: list[Any] = []

    def keep(thing: T) -> T:
        things.append(thing)
        return thing

    yield keep
    for thing in reversed(things):
        thing.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The users' data back end under test: "" (SQLite in the data folder) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    server: PgServer = request.getfixturevalue("postgres")
    return server.database()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    s = Settings.from_env()
    return load_embedder(s.model, s.cache_dir, s.runtime)


def build(settings: Settings, embedder: Embedder) -> Index:
    ingest(settings.content_dir, settings.index_dir, embedder,
           max_file_bytes=settings.max_file_bytes, chunk_tokens=settings.chunk_tokens)
    return Index(settings.index_dir, embedder)


@pytest.fixture(scope="session")
def fixture_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("fixture-kb")
    copy_fixtures(tmp / "content")
    return make_settings(tmp, tmp / "content")


@pytest.fixture(scope="session")
def fixture_index(fixture_settings: Settings, embedder: Embedder) -> Index:
    return build(fixture_settings, embedder)


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("demo-kb")
    return make_settings(tmp, ROOT / "content")


@pytest.fixture(scope="session")
def demo_index(demo_settings: Settings, embedder: Embedder) -> Index:
    return build(demo_settings, embedder)


@pytest.fixture()
def content(tmp_path: Path) -> Iterator[Path]:
    """A private copy of the fixture content, free to change."""
    target = tmp_path / "content"
    copy_fixtures(target)
    yield target


def copy_demo(tmp: Path, demo_settings: Settings) -> Settings:
    """A private, writable copy of the demo content with its already built index (nothing re-embedded)."""
    shutil.copytree(ROOT / "content", tmp / "content")
    (tmp / "index").mkdir(parents=True)
    source = sqlite3.connect(demo_settings.index_dir / "index.sqlite")
    target = sqlite3.connect(tmp / "index" / "index.sqlite")
    with target:
        source.backup(target)
    source.close()
    target.close()
    return make_settings(tmp, tmp / "content")


@pytest.fixture()
def demo_copy(tmp_path: Path, demo_settings: Settings, demo_index: Index) -> Settings:
    """The demo knowledge base, free to change: answer gaps, mark documents verified."""
    return copy_demo(tmp_path, demo_settings)
