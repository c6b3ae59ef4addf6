"""The demo knowledge base answers its questions from the right sections and refuses the rest."""

from __future__ import annotations

import json
from pathlib import Path

from kb.answer import answer
from kb.search import Index

_LINES = (Path(__file__).parent / "demo_questions.jsonl").read_text("utf-8").splitlines()
QUESTIONS = [json.loads(line) for line in _LINES if line.strip()]


def test_demo_has_enough_questions_in_both_languages() -> None:
    langs = [q["lang"] for q in QUESTIONS]
    assert len(QUESTIONS) >= 40 and langs.count("en") >= 8 and langs.count("ru") >= 30
    assert sum(1 for q in QUESTIONS if not q["expected"]) >= 4


def test_expected_section_in_top5_for_90_percent(demo_index: Index) -> None:
    answerable = [q for q in QUESTIONS if q["expected"]]
    misses = []
    for q in answerable:
        hits = demo_index.search(q["question"], k=5)
        gold = {(e["path"], e["heading"]) for e in q["expected"]}
        if not any((h.path, h.heading) in gold for h in hits):
            misses.append(q["question"])
    assert len(misses) <= 0.1 * len(answerable), misses


def test_unanswerable_questions_are_refused(demo_index: Index) -> None:
    unanswerable = [q["question"] for q in QUESTIONS if not q["expected"]]
    said = {q: answer(demo_index, q) for q in unanswerable}
    assert not [q for q, a in said.items() if a.answered], {q: a.confidence for q, a in said.items()}


def test_most_answerable_questions_are_answered_with_a_short_quote(demo_index: Index) -> None:
    answerable = [q for q in QUESTIONS if q["expected"]]
    results = [answer(demo_index, q["question"]) for q in answerable]
    answered = [a for a in results if a.answered]
    assert len(answered) >= 0.7 * len(answerable)
    for a in answered:
        assert a.answer and len(a.answer) <= 400
        top = a.sources[0]
        assert a.answer.split()[0] in top.text.replace("**", "")
