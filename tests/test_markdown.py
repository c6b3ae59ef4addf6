"""Parsing: a table of Markdown inputs and the sections they must give."""

from __future__ import annotations

import pytest

from kb.errors import BadInput
from kb.markdown import parse, split_sentences

CASES = [
    (
        "heading path and line ranges",
        "# Ромашка\n\nВступление.\n\n## Договор\n\nТекст договора.\n\n### Оплата\n\nОтсрочка 45 дней.\n",
        [(("Ромашка",), 1, 4), (("Ромашка", "Договор"), 5, 8), (("Ромашка", "Договор", "Оплата"), 9, 11)],
    ),
    (
        "text before the first heading belongs to the title",
        "---\ntitle: Док\n---\nПреамбула.\n\n## Раздел\n\nТекст.\n",
        [(("Док",), 4, 5), (("Раздел",), 6, 8)],
    ),
    (
        "a sibling heading closes the deeper one",
        "# A\n## B\n### C\nc\n## D\nd\n",
        [(("A", "B", "C"), 3, 4), (("A", "D"), 5, 6)],
    ),
    (
        "empty sections are dropped",
        "# A\n## Empty\n## Full\ntext\n",
        [(("A", "Full"), 3, 4)],
    ),
    (
        "a heading inside a code fence is code",
        "# A\n\n```\n# not a heading\n```\n",
        [(("A",), 1, 5)],
    ),
]


@pytest.mark.parametrize(("name", "source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_sections(name: str, source: str, expected: list[tuple[tuple[str, ...], int, int]]) -> None:
    doc = parse(source, "x.md")
    assert [(s.heading_path, s.start_line, s.end_line) for s in doc.sections] == expected


def test_front_matter_metadata() -> None:
    doc = parse(
        "---\ntitle: ООО «Ромашка»\ntype: client\nclient: romashka\nproducts: [sklad-pro, crm]\n"
        "owner: Анна\nverified: 2026-09-15\nreview_every: 90d\ntags: retail, key\naccess: [management]\n"
        "---\n# R\ntext\n",
        "clients/romashka.md",
    )
    m = doc.meta
    assert (m.title, m.type, m.client, m.owner) == ("ООО «Ромашка»", "client", "romashka", "Анна")
    assert m.products == ("sklad-pro", "crm") and m.tags == ("retail", "key") and m.access == ("management",)
    assert m.verified == "2026-09-15" and m.review_every == "90d"
    assert doc.title == "ООО «Ромашка»"


@pytest.mark.parametrize("front", ["title: [unclosed\n", "- just\n- a list\n", "type: novel\n"])
def test_bad_front_matter_is_reported(front: str) -> None:
    with pytest.raises(BadInput):
        parse(f"---\n{front}---\n# T\ntext\n", "x.md")


def test_blocks_keep_tables_lists_and_code_whole() -> None:
    doc = parse("# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- x\n- y\n\n```\ncode\n```\n", "x.md")
    assert [b.kind for b in doc.sections[0].blocks] == ["table", "bullet_list", "fence"]
    table = doc.sections[0].blocks[0]
    assert table.lead == "| a | b |\n|---|---|" and table.parts == (("| 1 | 2 |", 5, 5),)


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Первое. Второе!", ["Первое.", "Второе!"]),
        ("Согласовано О. Морозовой 01.03.2024. Дальше.", ["Согласовано О. Морозовой 01.03.2024.", "Дальше."]),
        ("Т.е. всё. Done.", ["Т.е. всё.", "Done."]),
        ("Price is 5.5 USD. Next one.", ["Price is 5.5 USD.", "Next one."]),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences
