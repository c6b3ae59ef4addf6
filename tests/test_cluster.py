"""Two `kb serve` processes on one PostgreSQL, as behind a load balancer: what one learns the other serves,
and losing one server, or PostgreSQL for a while, loses nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from kb.embedding import Embedder
from kb.service import KnowledgeBase

from .cluster import KbServer, call
from .conftest import copy_fixtures, make_settings
from .pgserver import PgServer

QUESTION = "Какой номер парковочного места у офиса Ласточки?"  # not in the fixture base: kb records a gap


def wait_for(check: object, seconds: float = 20.0) -> float:
    """Seconds until ``check()`` is true; fails after ``seconds``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not true after {seconds} s")


Cluster = tuple[PgServer, KbServer, KbServer, Path]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Cluster]:
    """PostgreSQL, then two servers on it sharing one content folder (as on a shared disk)."""
    tmp = tmp_path_factory.mktemp("cluster")
    copy_fixtures(tmp / "content")
    pg = PgServer()  # its own: one test restarts it
    url = pg.database()
    ingesting = KnowledgeBase(make_settings(tmp / "ingest", tmp / "content", url), embedder)
    ingesting.reindex()  # generation 1
    ingesting.close()
    one = KbServer("one", tmp, tmp / "content", url)
    two = KbServer("two", tmp, tmp / "content", url)
    try:
        one.start()
        two.start()
        yield pg, one, two, tmp / "content"
    finally:
        one.stop()
        two.stop()
        pg.close()


def test_a_gap_recorded_and_answered_through_one_server_is_seen_by_the_other(cluster: Cluster) -> None:
    _, one, two, _ = cluster
    status, asked = call(one.url + "/api/ask", {"question": QUESTION})
    assert status == 200 and asked["gap_id"], asked
    status, listed = call(two.url + "/api/gaps")
    assert status == 200 and QUESTION in [g["question"] for g in listed["gaps"]]
    before = two.generation()
    status, answered = call(one.url + f"/api/gaps/{asked['gap_id']}/answer",
                            {"answer": "Место 17 на гостевой парковке.", "author": "Анна"})
    assert status == 200, answered
    wait_for(lambda: two.generation() != before)  # the answer, published by one, is served by two
    status, closed = call(two.url + "/api/gaps?status=answered")
    assert QUESTION in [g["question"] for g in closed["gaps"]]
    assert "17" in call(two.url + "/api/ask", {"question": QUESTION})[1]["answer"]


def test_a_reindex_through_one_server_is_served_by_both_within_seconds(cluster: Cluster) -> None:
    _, one, two, content = cluster
    card = content / "clients" / "lastochka.md"
    card.write_text(card.read_text(encoding="utf-8").replace("30 календарных", "45 календарных"), encoding="utf-8")
    status, report = call(two.url + "/api/reindex", {})
    assert status == 200 and report["updated"] == 1 and report["embedded"] == 1
    newest = two.generation()
    seconds = wait_for(lambda: one.generation() == newest, 10)
    assert seconds < 10
    for server in (one, two):
        answer = call(server.url + "/api/ask", {"question": "Какая отсрочка платежа у Ласточки?"})[1]
        assert "45 календарных" in answer["answer"], answer


def test_postgres_restarted_is_503_while_away_then_recovered(cluster: Cluster) -> None:
    pg, one, two, content = cluster
    pg.stop()
    try:
        status, error = call(one.url + "/api/ask", {"question": "Какая отсрочка платежа у Ласточки?"})
        assert status == 503 and error["error"]["code"] == "database_unavailable"
        assert "unavailable; retry shortly" in error["error"]["message"]
    finally:
        pg.start()
    for server in (one, two):
        wait_for(lambda s=server: call(s.url + "/api/ask", {"question": "Какая отсрочка у Ласточки?"})[0] == 200)
    # the followers reconnected by themselves: a new generation still reaches both
    card = content / "clients" / "zenit.md"
    card.write_text(card.read_text(encoding="utf-8") + "\n\n## Парковка\n\nГостевое место 9.\n", encoding="utf-8")
    assert call(one.url + "/api/reindex", {})[0] == 200
    newest = one.generation()
    wait_for(lambda: two.generation() == newest, 15)


def test_a_server_killed_during_200_requests_leaves_the_other_answering(cluster: Cluster) -> None:
    _, one, two, _ = cluster
    results: list[tuple[str, int]] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(n):
            server = one if i % 2 else two
            try:
                status = call(server.url + "/api/ask", {"question": f"Кто подписывает акты у Зенита? ({i})"},
                              timeout=60)[0]
            except OSError:
                status = -1  # connection refused or reset: the killed server
            with lock:
                results.append((server.name, status))

    threads = [threading.Thread(target=client, args=(50,)) for _ in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(results) >= 40, 120)
    one.kill()
    for t in threads:
        t.join()
    assert len(results) == 200
    survivor = [s for name, s in results if name == "two"]
    assert survivor and all(s == 200 for s in survivor), survivor
    # every question the killed server answered before it died is in the shared database
    answered_by_one = sum(1 for name, s in results if name == "one" and s == 200)
    assert answered_by_one >= 10  # the kill came in the middle of the run
    with psycopg.connect(two.env["KB_DATABASE_URL"]) as conn:
        stored = conn.execute("SELECT count(*) FROM questions WHERE question LIKE 'Кто подписывает акты у Зенита?%'")
        assert stored.fetchone()[0] >= answered_by_one + len(survivor)
