"""Client briefings on the demo content: every line cited, missing parts reported, nothing invented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.brief import Brief, part_of
from kb.cli import main
from kb.embedding import Embedder
from kb.search import Index
from kb.service import KnowledgeBase
from kb.settings import Settings

from .conftest import TODAY, build, make_settings


@pytest.fixture(scope="module")
def demo_kb(demo_settings: Settings, demo_index: Index, embedder: Embedder) -> KnowledgeBase:
    return KnowledgeBase(demo_settings, embedder, clock=lambda: TODAY)


@pytest.mark.parametrize(("heading_path", "part", "starts"), [
    (("ООО «Ромашка»", "Условия оплаты"), "payment", 1),
    (("ООО «Ласточка»", "Договор", "Оплата"), "payment", 2),
    (("ООО «Ромашка»", "Контакты и роли", "Кто подписывает акты"), "contacts", 1),
    (("ООО «Ромашка»", "Что обещали", "Скидки"), "promises", 1),
    (("Balkan Soft d.o.o.", "Payment Terms"), "payment", 1),
    (("Balkan Soft d.o.o.", "What We Promised"), "promises", 1),
    (("Steppe Distribution LLP", "Contacts and Roles", "Who Signs Acceptance Acts"), "contacts", 1),
    (("ООО «Ромашка»", "Открытые вопросы"), "issues", 1),
    (("ООО «Ромашка»", "Риски"), "issues", 1),
    (("ООО «Ромашка»",), None, 0),
    (("ООО «Ромашка»", "Склад"), None, 0),
])
def test_headings_map_to_parts(heading_path: tuple[str, ...], part: str | None, starts: int) -> None:
    found = part_of(heading_path)
    assert (found[0].key, found[1]) == (part, starts) if found else part is None


def _line(brief: Brief, part: str, text: str):  # type: ignore[no-untyped-def]
    return next(line for line in brief.part(part).lines if text in line.text)


def test_brief_cites_the_payment_terms_and_everything_else(demo_kb: KnowledgeBase) -> None:
    brief = demo_kb.brief("romashka")
    assert (brief.title, brief.card, brief.today) == ("ООО «Ромашка»", "clients/romashka.md", "2026-11-27")
    pay = _line(brief, "payment", "45 календарных дней")
    assert pay.source is not None and (pay.source.path, pay.source.start_line) == ("clients/romashka.md", 46)
    assert pay.source.anchor == "ооо-ромашка-условия-оплаты" and not pay.source.stale
    signer = _line(brief, "contacts", "Маслов")
    assert signer.label == "Кто подписывает акты"
    assert _line(brief, "products", "Склад Про, CRM Норд").source.start_line == 5  # type: ignore[union-attr]
    assert _line(brief, "promises", "15.11.2026").label == "Сроки поставки"
    assert _line(brief, "issues", "1С:WMS")
    facts = brief.part("facts").lines
    assert {line.label for line in facts} == {"Склад Про", "CRM Норд"}
    assert {line.source.path for line in facts if line.source} <= {"products/sklad-pro.md", "products/crm-nord.md"}
    review = _line(brief, "changes", "clients/romashka.md")
    assert (review.kind, review.date) == ("review", "2026-12-14")
    for part in brief.parts:
        for line in part.lines:
            assert line.source is not None or part.key == "questions", (part.key, line.text)
    assert not any(p.missing for p in brief.parts if p.key not in ("questions", "changes"))


def test_stale_documents_are_flagged_in_the_brief(demo_kb: KnowledgeBase) -> None:
    brief = demo_kb.brief("severtrans")
    pay = _line(brief, "payment", "21 календарный день")
    assert pay.source is not None and pay.source.stale


def test_english_client_cards_brief_too(demo_kb: KnowledgeBase) -> None:
    brief = demo_kb.brief("balkan-soft")
    assert _line(brief, "payment", "Net 30 days").source.path == "clients/balkan-soft.md"  # type: ignore[union-attr]
    assert _line(brief, "contacts", "Milan Jovanović")


def test_missing_parts_say_so(fixture_settings: Settings, fixture_index: Index, embedder: Embedder) -> None:
    brief = KnowledgeBase(fixture_settings, embedder, clock=lambda: TODAY).brief("zenit")
    assert _line(brief, "payment", "Предоплата 100 %")
    assert _line(brief, "contacts", "Антон Белов")
    missing = {p.key: p.hint for p in brief.parts if p.missing}
    assert missing["contract"] == "Договор" and missing["promises"] == "Что обещали"
    assert "about" in missing and "payment" not in missing


def test_brief_command(fixture_settings: Settings, fixture_index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in (("KB_CONTENT_DIR", fixture_settings.content_dir), ("KB_INDEX_DIR", fixture_settings.index_dir),
                       ("KB_DATA_DIR", fixture_settings.data_dir)):
        monkeypatch.setenv(var, str(value))
    result = CliRunner().invoke(main, ["brief", "lastochka", "--json", "--today", "2026-11-27"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    pay = next(p for p in data["parts"] if p["key"] == "payment")
    assert pay["lines"][0]["source"]["path"] == "clients/lastochka.md" and "30 календарных" in pay["lines"][0]["text"]
    plain = CliRunner().invoke(main, ["brief", "lastochka"])
    assert "Payment terms" in plain.output and "clients/lastochka.md:28" in plain.output
    assert CliRunner().invoke(main, ["brief", "nobody"]).exit_code == 2


def test_restricted_documents_stay_out_of_other_readers_briefs(content: Path, tmp_path: Path,
                                                               embedder: Embedder) -> None:
    (content / "clients" / "lastochka-margin.md").write_text(
        "---\ntitle: Маржа Ласточки\ntype: policy\nclient: lastochka\nowner: A (a@b.example)\n"
        "verified: 2026-10-01\naccess: [management]\n---\n# Маржа Ласточки\n\n## Договор\n\nМаржа по договору 42 %.\n",
        encoding="utf-8")
    settings = make_settings(tmp_path, content)
    build(settings, embedder)
    kb = KnowledgeBase(settings, embedder, clock=lambda: TODAY)
    texts = {key: [line.text for line in kb.brief("lastochka", groups=key).part("contract").lines]
             for key in (frozenset(), frozenset({"management"}), None)}
    assert not any("42 %" in t for t in texts[frozenset()])
    assert any("42 %" in t for t in texts[frozenset({"management"})]) and any("42 %" in t for t in texts[None])
