"""Hybrid fusion: a keyword score counts by how much of the question it covers, not by its rank alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb import search
from kb.embedding import Embedder
from kb.ingest import ingest
from kb.search import Index, bm25_idf, fuse, with_span_evidence


def test_keyword_score_is_divided_by_the_question_ceiling() -> None:
    dense = {1: 0.80, 2: 0.79, 3: 0.60}
    keyword = {2: 4.0}
    strong = fuse(dense, keyword, "hybrid", ceiling=5.0)  # passage 2 holds most of the question's information
    weak = fuse(dense, keyword, "hybrid", ceiling=400.0)  # it holds a sliver of it (e.g. one shared name)
    assert max(strong, key=lambda p: strong[p]) == 2
    assert max(weak, key=lambda p: weak[p]) == 1


def test_dense_and_keyword_modes_pass_scores_through() -> None:
    assert fuse({1: 0.5}, {2: 3.0}, "dense") == {1: 0.5}
    assert fuse({1: 0.5}, {2: 3.0}, "keyword") == {2: 3.0}


def test_bm25_idf_matches_fts5() -> None:
    assert bm25_idf(0, 100) > bm25_idf(10, 100) > bm25_idf(50, 100) == 1e-6


TRAVEL = """# Командировки

## Как оформить командировку

Командировку согласует руководитель отдела не позднее чем за пять рабочих дней до поездки.
Заявку на командировку заполняют в портале, указывая цель поездки, даты и город.
Билеты и гостиницу для командировки бронирует офис-менеджер по заявке сотрудника.
После командировки в течение трёх дней сдают авансовый отчёт с посадочными талонами и чеками.
Командировочные расходы сверх лимита возмещаются только с письменного согласия руководителя.

## Служебный транспорт

Служебный автомобиль заказывают через диспетчера за сутки.
Парковка у офиса бесплатна для сотрудников с пропуском.
Такси оплачивается компанией после 22:00 и в дни выхода отчётности.
За границей сотруднику платят 50 евро в день на питание.
Топливные карты выдаёт бухгалтерия под подпись.
Штрафы ГИБДД водитель оплачивает сам.
Шины меняют в сервисе на Заводской улице дважды в год.
"""


def test_a_section_with_the_answering_sentence_outranks_one_only_on_the_topic(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "travel.md").write_text(TRAVEL, encoding="utf-8")
    ingest(tmp_path / "content", tmp_path / "index", embedder, max_file_bytes=10**6, chunk_tokens=320)
    index = Index(tmp_path / "index", embedder)
    question = "Сколько платят в день в командировке за границей?"
    assert index.search(question, k=1)[0].heading == "Служебный транспорт"
    # The whole-passage vectors alone prefer the section about business trips in general.
    monkeypatch.setattr(search, "SPAN_WEIGHT", 0.0)
    assert index.search(question, k=1)[0].heading == "Как оформить командировку"


def test_span_evidence_is_added_only_where_span_vectors_exist() -> None:
    scores = {1: 1.0, 2: 0.99, 3: 0.5}
    assert with_span_evidence(scores, {}, {1: 0.8}) == scores  # an index from before span vectors
    got = with_span_evidence(scores, {1: 0.80, 2: 0.90}, {3: 0.7})
    assert max(got, key=lambda p: got[p]) == 2
    assert got[3] == pytest.approx(0.5 + search.SPAN_WEIGHT * 0.7)  # no spans: its passage cosine stands in


def test_span_vectors_are_read_for_many_passages_at_once(fixture_index: Index) -> None:
    ids = [r[0] for r in fixture_index.store.conn.execute("SELECT id FROM passages")]
    many = fixture_index.store.span_vectors_of(ids)
    assert set(many) == set(ids)
    for pid in ids:
        one = fixture_index.store.span_vectors(pid)
        assert one is not None and np.array_equal(one, many[pid])
