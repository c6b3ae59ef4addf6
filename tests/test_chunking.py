"""Chunking with the real model's tokenizer: budgets, whole blocks, no passage across headings."""

from __future__ import annotations

from kb.chunking import chunk_document
from kb.embedding import Embedder
from kb.markdown import parse


def test_short_sections_are_one_passage_each(embedder: Embedder) -> None:
    doc = parse("# A\n\ntext a\n\n## B\n\n| x | y |\n|---|---|\n| 1 | 2 |\n", "a.md")
    chunks = chunk_document(doc, embedder.count_tokens, 320)
    assert [(c.heading, c.text) for c in chunks] == [("A", "text a"), ("B", "| x | y |\n|---|---|\n| 1 | 2 |")]
    assert chunks[0].embed_text("A").startswith("A\n")
    assert chunks[1].embed_text("Title") == "Title > A > B\n| x | y |\n|---|---|\n| 1 | 2 |"


def test_long_section_splits_within_budget_with_overlap(embedder: Embedder) -> None:
    paragraphs = [f"Пункт {i}. " + "Клиент просил доставку на склад в Казани до конца месяца. " * 6 for i in range(12)]
    doc = parse("# Long\n\n" + "\n\n".join(paragraphs) + "\n\n## Next\n\nother\n", "l.md")
    budget = 200
    chunks = chunk_document(doc, embedder.count_tokens, budget)
    long = [c for c in chunks if c.heading == "Long"]
    assert len(long) > 3
    assert all(embedder.count_tokens(c.embed_text("")) <= budget + 8 for c in long)
    assert all("other" not in c.text for c in long)
    for first, second in zip(long, long[1:]):
        assert second.start_line <= first.end_line + 2
    joined = " ".join(c.text for c in long)
    assert all(f"Пункт {i}." in joined for i in range(12))


def test_long_table_is_cut_between_rows_and_keeps_its_header(embedder: Embedder) -> None:
    rows = "\n".join(f"| Товар {i} | {i * 100} ₽ | склад в Самаре, отгрузка по вторникам |" for i in range(80))
    doc = parse(f"# Prices\n\n| Name | Price | Note |\n|---|---|---|\n{rows}\n", "p.md")
    chunks = chunk_document(doc, embedder.count_tokens, 200)
    assert len(chunks) > 2
    for c in chunks:
        assert c.text.startswith("| Name | Price | Note |\n|---|---|---|\n")
        assert all(line.startswith("|") and line.endswith("|") for line in c.text.splitlines())


def test_giant_single_line_is_cut_on_words(embedder: Embedder) -> None:
    doc = parse("# G\n\n" + "слово " * 5000 + "\n", "g.md")
    chunks = chunk_document(doc, embedder.count_tokens, 256)
    assert len(chunks) > 10
    assert all(embedder.count_tokens(c.text) <= 256 for c in chunks)


def test_multi_megabyte_line_parses_and_chunks(embedder: Embedder) -> None:
    doc = parse("# Huge\n\n" + "очень длинная строка без точек " * 70_000 + "\n", "h.md")
    chunks = chunk_document(doc, embedder.count_tokens, 320)
    assert sum(len(c.text) for c in chunks) >= 2_000_000
    assert max(embedder.count_tokens(c.text) for c in chunks) <= 320
