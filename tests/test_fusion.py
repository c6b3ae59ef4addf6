"""Hybrid fusion: a keyword score counts by how much of the question it covers, not by its rank alone."""

from __future__ import annotations

from kb.search import bm25_idf, fuse


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
