"""Ingest: incremental by content hash, deletions, model changes, and every kind of bad file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kb.embedding import Embedder
from kb.errors import StoreError
from kb.ingest import ingest
from kb.search import Index
from kb.store import Store


def run(content: Path, index: Path, embedder: Embedder, max_mb: float = 5.0):  # type: ignore[no-untyped-def]
    return ingest(content, index, embedder, max_file_bytes=int(max_mb * 1048576), chunk_tokens=320)


def test_incremental_ingest_embeds_only_what_changed(content: Path, tmp_path: Path, embedder: Embedder) -> None:
    index = tmp_path / "index"
    first = run(content, index, embedder)
    assert (first.files, first.added, first.errors) == (3, 3, [])
    assert first.embedded == first.passages > 0

    again = run(content, index, embedder)
    assert (again.unchanged, again.added, again.updated, again.embedded) == (3, 0, 0, 0)

    path = content / "clients" / "lastochka.md"
    path.write_text(path.read_text(encoding="utf-8").replace("30 календарных", "60 календарных"), encoding="utf-8")
    edited = run(content, index, embedder)
    assert (edited.updated, edited.unchanged, edited.embedded) == (1, 2, 1)
    hits = Index(index, embedder).search("отсрочка платежа Ласточка", k=3)
    assert any("60 календарных" in h.text for h in hits)

    (content / "clients" / "zenit.md").unlink()
    removed = run(content, index, embedder)
    assert removed.removed == 1
    found = Index(index, embedder).search("Зенит Трейд предоплата Антон Белов", k=20)
    assert all(h.path != "clients/zenit.md" for h in found)
    assert Store(index).counts()["vectors"] == removed.passages


def test_a_different_model_rebuilds_every_vector(content: Path, tmp_path: Path, embedder: Embedder) -> None:
    index = tmp_path / "index"
    first = run(content, index, embedder)
    other = Embedder(embedder._model, "another/model")  # same weights under another name: a model change
    rebuilt = run(content, index, other)
    assert rebuilt.embedded == first.passages and rebuilt.unchanged == 0 and rebuilt.updated == 3
    assert Store(index).get_meta("model") == "another/model"
    assert Store(index).counts()["vectors"] == first.passages
    with pytest.raises(StoreError, match="built with model"):
        Index(index, embedder)
    assert Index(index, other).size == first.passages


def _bad_files(root: Path, outside: Path) -> dict[str, str]:
    """Write one file of each bad kind; returns path -> a word its reason must contain."""
    (root / "bad").mkdir()
    (root / "bad" / "latin1.md").write_bytes("# Заголовок\nтекст".encode("cp1251"))
    (root / "bad" / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (root / "bad" / "empty.md").write_text("   \n", encoding="utf-8")
    (root / "bad" / "yaml.md").write_text("---\ntitle: [oops\n---\n# T\ntext\n", encoding="utf-8")
    (root / "bad" / "big.md").write_text("# Big\n" + "x" * (2 * 1048576), encoding="utf-8")
    (root / "bad" / "notes.txt").write_text("plain text", encoding="utf-8")
    (root / "bad" / "locked.md").write_text("# Locked\nsecret", encoding="utf-8")
    os.chmod(root / "bad" / "locked.md", 0)
    (root / "bad" / "loop.md").symlink_to(root / "bad" / "loop.md")
    (outside / "secret.md").write_text("# Outside\nне для индекса", encoding="utf-8")
    (root / "bad" / "escape.md").symlink_to(outside / "secret.md")
    (root / "bad" / "escape-dir").symlink_to(outside)
    expected = {
        "bad/latin1.md": "UTF-8", "bad/binary.md": "binary", "bad/empty.md": "empty", "bad/yaml.md": "YAML",
        "bad/big.md": "limit", "bad/notes.txt": "Markdown", "bad/loop.md": "loop", "bad/escape.md": "outside",
        "bad/escape-dir": "outside",
    }
    if os.geteuid() != 0:  # root reads any file
        expected["bad/locked.md"] = "unreadable"
    return expected


def test_bad_files_are_reported_and_the_rest_is_ingested(content: Path, tmp_path: Path, embedder: Embedder) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    expected = _bad_files(content, outside)
    (content / "odd").mkdir()
    (content / "odd" / "fence.md").write_text("# Fence\n\n```python\nnever closed\n", encoding="utf-8")
    deep = "- " * 3000 + "level\n" + "".join("  " * i + "- item\n" for i in range(300))
    (content / "odd" / "deep.md").write_text("# Deep\n\n" + deep, encoding="utf-8")
    (content / "odd" / "line.md").write_text("# Line\n\n" + "длинная строка " * 10_000, encoding="utf-8")

    started = time.monotonic()
    report = run(content, tmp_path / "index", embedder, max_mb=1.0)
    assert time.monotonic() - started < 600  # a hang, not a speed target
    reasons = {e.path: e.reason for e in report.errors}
    for path, word in expected.items():
        assert path in reasons, f"{path} not reported: {reasons}"
        assert word.lower() in reasons[path].lower(), (path, reasons[path])
    indexed = {d.path for d in Store(tmp_path / "index").documents()}
    assert {"clients/lastochka.md", "clients/zenit.md", "products/sklad.md", "odd/fence.md", "odd/deep.md"} <= indexed
    assert not any("secret" in p or "escape" in p for p in indexed)


def test_restricted_documents_are_filtered_before_ranking(content: Path, tmp_path: Path, embedder: Embedder) -> None:
    from kb.search import Filters

    (content / "secret.md").write_text(
        "---\ntitle: Маржа\ntype: policy\naccess: [management]\n---\n# Маржа\n\n"
        "Минимальная цена Склад Про — кодовое слово зюзяблик, не ниже 61 000 ₽.\n", "utf-8")
    run(content, tmp_path / "index", embedder)
    index = Index(tmp_path / "index", embedder)
    query = "минимальная цена Склад Про зюзяблик"
    for mode in ("hybrid", "dense", "keyword"):
        for groups in (frozenset(), frozenset({"sales"})):
            hits = index.search(query, k=50, filters=Filters(groups=groups), mode=mode)  # type: ignore[arg-type]
            assert hits and all(h.path != "secret.md" and "зюзяблик" not in h.text for h in hits)
        inside = index.search(query, k=3, filters=Filters(groups=frozenset({"management", "x"})), mode=mode)  # type: ignore[arg-type]
        assert inside[0].path == "secret.md"
    assert index.search(query, k=1)[0].path == "secret.md"
