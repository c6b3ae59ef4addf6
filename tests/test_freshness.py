"""Review dates, the stale report, and the front matter edit that marks a document verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.edits import append_block, set_front_matter, target
from kb.errors import BadInput
from kb.freshness import due_for_review, freshness, review_days
from kb.search import Index
from kb.store import DocumentRow

from .conftest import TODAY


@pytest.mark.parametrize(("period", "days"), [
    ("90d", 90), ("90", 90), ("12w", 84), ("6m", 180), ("1y", 365), ("30 days", 30), ("", None), ("soon", None),
    ("0d", None),
])
def test_review_periods(period: str, days: int | None) -> None:
    assert review_days(period) == days


@pytest.mark.parametrize(("verified", "every", "stale", "due"), [
    ("2026-09-15", "90d", False, "2026-12-14"),
    ("2026-06-30", "90d", True, "2026-09-28"),
    ("2026-05-31", "", True, "2026-11-27"),  # the default is 180 days; due today counts as due
    ("2026-06-01", "", False, "2026-11-28"),
    ("", "90d", True, ""),  # never verified
    ("not a date", "90d", True, ""),
])
def test_stale_when_review_is_due(verified: str, every: str, stale: bool, due: str) -> None:
    f = freshness(verified, every, TODAY)
    assert (f.stale, f.review_due) == (stale, due)


def _doc(path: str, owner: str, verified: str, every: str = "90d") -> DocumentRow:
    return DocumentRow(id=0, path=path, hash="", title=path, type="policy", client="", owner=owner,
                       verified=verified, review_every=every, meta={})


def test_report_groups_per_owner_by_email() -> None:
    docs = [
        _doc("a.md", "Ольга Морозова (o.morozova@x.example)", "2026-01-01"),
        _doc("b.md", "Olga Morozova (o.morozova@x.example)", "2026-02-01"),
        _doc("c.md", "Иван (i@x.example)", "2026-11-01"),
        _doc("d.md", "", ""),
        _doc("e.md", "Иван (i@x.example)", "2026-09-20"),  # due 2026-12-19: only within a month
    ]
    report = due_for_review(docs, TODAY)
    assert [(o.owner, [d.path for d in o.documents]) for o in report] == [
        ("Ольга Морозова (o.morozova@x.example)", ["a.md", "b.md"]), ("", ["d.md"])]
    soon = due_for_review(docs, TODAY, within_days=30)
    ivan = next(o for o in soon if o.owner.startswith("Иван"))
    assert [(d.path, d.freshness.stale) for d in ivan.documents] == [("e.md", False)]


def test_demo_overdue_documents(demo_index: Index) -> None:
    report = due_for_review(demo_index.store.documents(), TODAY)
    assert {d.path for o in report for d in o.documents} == {
        "clients/severtrans.md", "clients/volga-textile.md", "policies/gifts-travel.md"}


FRONT = "---\ntitle: T\nowner: A (a@x.example)\nverified: 2026-01-01   # last check\nreview_every: 90d\n---\n# T\n"


@pytest.mark.parametrize(("before", "after"), [
    (FRONT, FRONT.replace("2026-01-01", "2026-11-27")),
    (FRONT.replace("\n", "\r\n"), FRONT.replace("2026-01-01", "2026-11-27").replace("\n", "\r\n")),
    ("---\ntitle: T\n---\nbody\n", "---\ntitle: T\nverified: 2026-11-27\n---\nbody\n"),
    ("---\nverified: '2026-01-01'\nnested:\n  verified: x\n---\n",
     "---\nverified: 2026-11-27\nnested:\n  verified: x\n---\n"),
])
def test_marking_verified_changes_only_that_line(before: str, after: str) -> None:
    assert set_front_matter(before, "verified", "2026-11-27") == after


def test_no_front_matter_is_not_rewritten() -> None:
    with pytest.raises(BadInput):
        set_front_matter("# Title\n\ntext\n", "verified", "2026-11-27")


def test_appending_keeps_the_file_and_its_newlines() -> None:
    assert append_block("a\r\nb", "## Q\n\nA\n") == "a\r\nb\r\n\r\n## Q\r\n\r\nA\r\n"
    assert append_block("a\n\n", "## Q\n") == "a\n\n## Q\n"


def test_kb_writes_only_inside_the_content_folder(tmp_path: Path) -> None:
    root = tmp_path / "content"
    (root / "clients").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    assert target(root, "clients/x-faq.md") == root.resolve() / "clients" / "x-faq.md"
    for bad in ("../x.md", "/etc/x.md", "clients/../../x.md", "link/x.md", "clients/x.txt", ".hidden/x.md", ""):
        with pytest.raises(BadInput):
            target(root, bad)
