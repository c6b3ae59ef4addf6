"""The fast paths keep their meaning: span vectors made at ingest, the question cache, batched questions, HNSW."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import faiss
import numpy as np
import pytest

from kb import search
from kb.answer import answer, best_span, names_row
from kb.embedding import Batcher, Embedder
from kb.ingest import ingest
from kb.search import Index
from kb.settings import Settings
from kb.spans import spans


def test_spans_point_into_the_passage_and_drop_only_emphasis() -> None:
    text = ("Intro line.\n- **Отсрочка** — 45 дней с даты УПД. Исключение согласовано.\n"
            "| Поле | Значение |\n|---|---|\n| Срок | 10 дней |\n")
    got = spans(text)
    assert [s.text for s in got] == ["Intro line.", "Отсрочка — 45 дней с даты УПД.", "Исключение согласовано.",
                                     "Поле: Срок · Значение: 10 дней"]
    for s in got[:-1]:
        assert s.text == text[s.start:s.end].replace("**", "").strip()
    assert text[got[-1].start:got[-1].end] == "| Срок | 10 дней |"  # a table row points at its line


def test_a_question_names_a_table_row_by_what_only_its_first_cell_says() -> None:
    text = ("Сроки доставки:\n| Зона | Срок | Цена |\n|---|---|---|\n| Москва | 1–2 дня | 0 |\n"
            "| Казахстан: Астана, Алматы | 8–14 рабочих дней | по расчёту |\n| VT-1000 | 6 недель | 3 870 000 |\n")
    rows = [s for s in spans(text) if text[s.start:].startswith("|")]
    assert [s.key for s in rows] == ["Москва", "Казахстан: Астана, Алматы", "VT-1000"]
    assert all(s.key == "" for s in spans(text) if s not in rows)
    moscow, kazakhstan, boiler = (s.start for s in rows)
    assert names_row("Сколько едет груз в Казахстан?", text, kazakhstan)
    assert not names_row("Сколько едет груз в Казахстан?", text, moscow)
    assert names_row("Почём VT-1000?", text, boiler)
    assert not names_row("Сколько едет груз?", text, kazakhstan)  # names no row
    assert not names_row("Сколько едет груз в Казахстан?", text, -1)  # a sentence is no row


def test_a_long_sentence_is_cut_at_clauses_within_the_limit() -> None:
    sentence = ", ".join(f"пункт номер {i} договора поставки" for i in range(40)) + "."
    got = spans(sentence)
    assert len(got) > 1
    assert all(len(s.text) <= 300 for s in got)
    assert got[0].start == 0 and got[-1].end <= len(sentence)


def test_ingest_stores_one_unit_vector_per_span(fixture_index: Index) -> None:
    rows = fixture_index.store.conn.execute("SELECT id, text FROM passages").fetchall()
    for pid, text in rows:
        vecs = fixture_index.store.span_vectors(pid)
        assert vecs is not None and vecs.shape == (len(spans(text)), fixture_index.embedder.dim)
        assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=0.01)


def test_the_span_that_answers_is_chosen_from_stored_vectors(fixture_index: Index) -> None:
    question = "Какая отсрочка платежа у Ласточки?"
    qvec = fixture_index.embedder.query(question)
    hit = fixture_index.search(question, k=1)[0]
    span, sim = best_span(fixture_index, qvec, hit, question)
    assert "отсрочк" in span.lower() and span in hit.text.replace("**", "")
    assert 0.5 < sim <= 1.0


def test_an_index_from_before_span_vectors_is_brought_up_to_date(content: Path, tmp_path: Path,
                                                                 embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    ingest(content, index_dir, embedder, max_file_bytes=10**6, chunk_tokens=320)
    with sqlite3.connect(index_dir / "index.sqlite") as conn:
        conn.execute("ALTER TABLE vectors DROP COLUMN spans")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    report = ingest(content, index_dir, embedder, max_file_bytes=10**6, chunk_tokens=320)
    assert report.embedded == report.passages  # no file changed, yet every passage got its span vectors
    index = Index(index_dir, embedder)
    assert all(index.store.span_vectors(pid) is not None
               for (pid,) in index.store.conn.execute("SELECT id FROM passages"))
    assert answer(index, "Какая отсрочка платежа у Ласточки?").answered


def test_missing_span_vectors_of_unchanged_files_are_made(content: Path, tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    ingest(content, index_dir, embedder, max_file_bytes=10**6, chunk_tokens=320)
    with sqlite3.connect(index_dir / "index.sqlite") as conn:
        conn.execute("UPDATE vectors SET spans = NULL")
    report = ingest(content, index_dir, embedder, max_file_bytes=10**6, chunk_tokens=320)
    assert report.unchanged == report.files and report.embedded == report.passages
    index = Index(index_dir, embedder)
    assert all(index.store.span_vectors(pid) is not None
               for (pid,) in index.store.conn.execute("SELECT id FROM passages"))


def test_a_repeated_question_comes_from_the_cache_unchanged(embedder: Embedder) -> None:
    first = embedder.query("Кто подписывает акты у Зенита?")
    again = embedder.query("Кто подписывает акты у Зенита?")
    assert again is first and not again.flags.writeable
    assert np.allclose(first, embedder.queries(["Кто подписывает акты у Зенита?"])[0], atol=1e-5)


def test_questions_asked_together_share_model_runs_and_get_their_own_vectors(embedder: Embedder) -> None:
    calls: list[int] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return embedder.queries(texts)

    batcher = Batcher(encode)
    questions = [f"Вопрос номер {i} о сроках поставки" for i in range(12)]
    got: dict[int, np.ndarray] = {}
    start = threading.Barrier(len(questions))

    def ask(i: int) -> None:
        start.wait()
        got[i] = batcher(questions[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    want = embedder.queries(questions)
    for i in range(len(questions)):
        assert float(got[i] @ want[i]) > 0.9999
    assert sum(calls) == len(questions) and len(calls) < len(questions)


def test_a_failing_model_run_reaches_every_waiting_caller() -> None:
    def encode(texts: list[str]) -> np.ndarray:
        raise RuntimeError("model broke")

    with pytest.raises(RuntimeError, match="model broke"):
        Batcher(encode)("вопрос")


def test_hnsw_past_the_exact_limit_finds_what_exact_search_finds(fixture_settings: Settings, embedder: Embedder,
                                                                 fixture_index: Index,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "EXACT_UP_TO", 1)
    approx = Index(fixture_settings.index_dir, embedder)
    assert isinstance(faiss.downcast_index(approx.faiss.index), faiss.IndexHNSWFlat)
    for q in ("Какая отсрочка платежа у Ласточки?", "Сколько стоит лицензия Склад?", "Кто контакт в Зените?"):
        assert [h.id for h in approx.search(q, k=3)] == [h.id for h in fixture_index.search(q, k=3)]
        only = search.Filters(client="zenit")
        assert [h.id for h in approx.search(q, k=3, filters=only)] == \
            [h.id for h in fixture_index.search(q, k=3, filters=only)]


def test_stored_terms_are_what_answering_would_compute(fixture_index: Index) -> None:
    import json

    from kb.chunking import Chunk
    from kb.text import terms

    rows = fixture_index.store.conn.execute(
        "SELECT p.id, p.heading, p.heading_path, p.text, d.title FROM passages p JOIN documents d ON d.id = p.doc_id"
    ).fetchall()
    assert rows
    for pid, heading, path, text, title in rows:
        context = Chunk("", heading, tuple(json.loads(path)), text, 0, 0).embed_text(title)
        assert fixture_index.store.terms_of(pid) == terms(context)


def test_learned_terms_stand_in_only_for_the_text_they_were_stored_for() -> None:
    from kb import text

    text.learn("Отгрузка партии", ["a", "b", "c"])  # not this text's terms: ignored
    assert text.terms("Отгрузка партии") == [text.stem("отгрузка"), text.stem("партии")]
    text.learn("Отгрузка партии", ["отгрузк", "парт"])
    assert text._LEARNED["партии"] == "парт"
    text._LEARNED.clear()


def test_a_question_started_early_gets_the_vector_asking_would(embedder: Embedder) -> None:
    question = "Сколько дней отсрочки у клиента Север?"
    later = embedder.query_soon(question)  # returns before the model has run
    vec = later()
    assert later() is vec and not vec.flags.writeable
    assert embedder.query(question) is vec  # the finished vector is cached
    assert np.allclose(vec, embedder.queries([question])[0], atol=1e-5)


def test_retrieve_takes_a_pending_vector_and_ranks_as_with_the_vector(fixture_index: Index) -> None:
    question = "Кто подписывает акты у Зенита?"
    pending = fixture_index.embedder.query_soon(question + " ")
    got = fixture_index.retrieve(question, k=3, qvec=pending)
    want = fixture_index.retrieve(question, k=3, qvec=fixture_index.embedder.queries([question + " "])[0])
    assert [h.id for h in got.hits] == [h.id for h in want.hits]
    assert got.qvec is not None and float(got.qvec @ want.qvec) > 0.9999  # type: ignore[operator]


def test_span_vectors_held_in_memory_match_the_store_and_stay_within_their_bound(
        fixture_settings: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    index = Index(fixture_settings.index_dir, embedder)
    ids = [pid for (pid,) in index.store.conn.execute("SELECT id FROM passages ORDER BY id")]
    stored = index.store.span_vectors_of(ids)
    bound = sum(len(v) for v in stored.values()) // 3
    monkeypatch.setattr(search, "SPAN_CACHE_ROWS", bound)
    for start in range(0, len(ids), 2):  # read in pieces, so the oldest are dropped as the bound is passed
        got = index.span_vectors_of(ids[start : start + 2])
        assert set(got) == {pid for pid in ids[start : start + 2] if pid in stored}
        for pid, vecs in got.items():
            assert vecs.dtype == np.float32 and np.allclose(vecs, stored[pid], atol=1e-3)
        held = sum(len(v) for v in index._spans.values())
        assert held == index._span_rows <= bound
    assert len(index._spans) < len(ids)  # the bound was reached
    again = index.span_vectors_of(ids)  # read back after being dropped: still right
    assert all(np.allclose(again[pid], stored[pid], atol=1e-3) for pid in stored)
