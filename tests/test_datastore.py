"""The users' data (questions, gaps, feedback, what kb last saw) on both back ends: SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kb.datastore import Change, DataStore, SeenDocument


@pytest.fixture()
def data(tmp_path: Path, database_url: str) -> Iterator[DataStore]:
    store = DataStore(tmp_path, database_url)
    yield store
    store.close()


def test_questions_are_kept_with_their_vectors(data: DataStore) -> None:
    vec = np.arange(4, dtype=np.float32)
    first = data.record_question("Какая отсрочка у Ромашки?", "romashka", True, "confident", 0.91,
                                 {"path": "clients/romashka.md"}, ["clients/romashka.md#oplata"], vec, "e5")
    second = data.record_question("Кто подписывает акты?", "", False, "refused", 0.2, None, [], None, "e5")
    assert second > first
    rows = data.questions(model="e5")
    assert [r.question for r in rows] == ["Какая отсрочка у Ромашки?", "Кто подписывает акты?"]
    assert rows[0].source == {"path": "clients/romashka.md"} and rows[0].nearest == ("clients/romashka.md#oplata",)
    assert np.array_equal(rows[0].vec, vec) and rows[1].vec is None
    assert data.questions(model="other")[0].vec is None  # a vector of another model is never used
    assert [r.id for r in data.questions("romashka")] == [first]
    assert data.question(second, "e5") == rows[1] and data.question(999) is None
    assert data.last_question("Кто подписывает акты?", "e5") == rows[1]
    assert data.question_counts() == {"romashka": (1, 1), "": (1, 0)}
    data.set_question_vectors({second: vec * 2}, "e5")
    assert np.array_equal(data.questions("", "e5")[0].vec, vec * 2)


def test_gaps_and_feedback(data: DataStore) -> None:
    gap = data.record_gap("Есть ли скидка?", "refused", "romashka", "anna", ["a.md#x"], None, "e5", None)
    data.record_feedback("Какая отсрочка?", "30 дней", helpful=True)
    data.record_feedback("Кто подписывает?", "Иванов", helpful=False, comment="устарело", client="vector",
                         owner="ivan")
    open_gaps = data.gaps(answered=False)
    assert [(g.question, g.reason, g.client, g.owner) for g in open_gaps] == [
        ("Кто подписывает?", "unhelpful", "vector", "ivan"), ("Есть ли скидка?", "refused", "romashka", "anna")]
    assert data.db.rows("SELECT question, helpful, comment FROM feedback ORDER BY id") == [
        ("Какая отсрочка?", 1, ""), ("Кто подписывает?", 0, "устарело")]
    data.answer_gaps([gap], "clients/romashka.md", "skidki")
    answered = data.gaps(answered=True)
    assert [(g.id, g.answer_path, g.answer_anchor) for g in answered] == [(gap, "clients/romashka.md", "skidki")]
    assert answered[0].answered_at is not None and len(data.gaps()) == 2
    data.set_gap_vectors({gap: np.ones(3, dtype=np.float32)}, "e5")
    assert np.array_equal(data.gaps(True, "e5")[0].vec, np.ones(3, dtype=np.float32))


def test_what_kb_saw_is_replaced_and_changes_accumulate(data: DataStore) -> None:
    data.record_changes([SeenDocument("a.md", "h1", "", {"A": "1"}), SeenDocument("b.md", "h2", "", {})], [],
                        [Change("a.md", ("A",), "added", 100.0)])
    data.record_changes([SeenDocument("a.md", "h3", "2026-12-01", {"A": "2"})], ["b.md"],
                        [Change("a.md", ("A",), "changed", 200.0), Change("b.md", (), "removed", 200.0)])
    assert data.seen_documents() == {"a.md": SeenDocument("a.md", "h3", "2026-12-01", {"A": "2"})}
    assert data.changes(["a.md"], 0) == [Change("a.md", ("A",), "changed", 200.0),
                                         Change("a.md", ("A",), "added", 100.0)]
    assert data.changes(["a.md", "b.md"], 150) == [Change("b.md", (), "removed", 200.0),  # newest, then last
                                                   Change("a.md", ("A",), "changed", 200.0)]
    assert data.changes([], 0) == []


def test_a_failed_write_leaves_nothing_half_done(data: DataStore) -> None:
    with pytest.raises(ZeroDivisionError), data.db.transaction() as tx:
        tx.run("INSERT INTO feedback(question, answer, helpful, comment, created) VALUES (?, '', 1, '', 0)",
               ("lost",))
        raise ZeroDivisionError
    assert data.db.rows("SELECT question FROM feedback") == []
