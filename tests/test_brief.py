"""Client briefings on the demo content: every line cited, missing parts reported, nothing invented."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.brief import Brief, ClientDocument, assemble, client_editions, document_parts, editions_of, part_of
from kb.cli import main
from kb.embedding import Embedder
from kb.freshness import freshness
from kb.markdown import parse
from kb.search import Index
from kb.service import CONFIDENT, REFUSED, UNSURE, KnowledgeBase
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


def test_a_card_overdue_for_review_says_so_once_at_the_top(demo_kb: KnowledgeBase) -> None:
    brief = demo_kb.brief("severtrans")
    top = brief.parts[0]
    assert (top.key, len(top.lines)) == ("review", 1)
    warning = top.lines[0]
    assert warning.text == "Карточка не проверялась с 2026-06-30 (проверка была нужна до 2026-09-28)"
    assert warning.source is not None and warning.source.stale
    assert (warning.source.path, warning.source.start_line, warning.kind) == ("clients/severtrans.md", 7, "stale")
    pay = _line(brief, "payment", "21 календарный день")  # the card's lines do not say it again, one by one
    assert pay.source is not None and pay.source.path == "clients/severtrans.md" and not pay.source.stale
    rest = [line for part in brief.parts[1:] for line in part.lines]
    assert not any(line.source and line.source.path == "clients/severtrans.md" and line.source.stale for line in rest)
    assert not any(line.kind == "review" for line in brief.part("changes").lines)
    assert "review" not in [p.key for p in demo_kb.brief("romashka").parts]  # a fresh card: no warning


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


CHECKLIST = ["due", "issues", "contacts", "promises", "preferences", "contract", "payment", "products", "facts",
             "questions", "about", "history", "changes"]


def test_the_brief_reads_like_a_pre_call_checklist(demo_kb: KnowledgeBase) -> None:
    brief = demo_kb.brief("romashka")
    assert [p.key for p in brief.parts] == CHECKLIST
    assert [p.key for p in demo_kb.brief("severtrans").parts] == ["review", *CHECKLIST]
    issues = [line.text for line in brief.part("issues").lines]  # open questions first, then risks
    assert "30.09.2026" in issues[0] and "Анастасия Ким" in issues[1] and "1С:WMS" in issues[2]
    assert brief.as_dict()["parts"][0]["key"] == "due"


def test_what_is_due_comes_first_overdue_then_the_next_30_days(demo_kb: KnowledgeBase) -> None:
    brief = demo_kb.brief("romashka", today=dt.date(2026, 12, 2))
    due = brief.parts[0]
    assert due.key == "due" and not due.missing
    found = {(line.kind, line.label, line.date): line for line in due.lines}
    promise = found["overdue", "promise", "2026-11-15"]
    assert "Запуск РЦ Колпино — до 15.11.2026" in promise.text
    assert promise.source is not None and (promise.source.path, promise.source.start_line) == (
        "clients/romashka.md", 85)
    assert promise.source.heading_path == ("ООО «Ромашка»", "Что обещали", "Сроки поставки")
    question = found["overdue", "open question", "2026-09-30"]
    assert "ждёт расчёт" in question.text and question.source is not None and question.source.start_line == 78
    expiry = found["due", "document expiry", "2026-12-31"]
    assert "МЧД" in expiry.text and expiry.source is not None and expiry.source.start_line == 26
    kinds = [line.kind for line in due.lines]
    assert set(kinds) == {"overdue", "due"} and kinds == sorted(kinds, key=lambda k: k != "overdue")
    overdue = [line.date for line in due.lines if line.kind == "overdue"]
    assert overdue == sorted(overdue)
    assert not any(line.date in ("2027-01-10", "2027-03-11") for line in due.lines)  # notice, contract end: later
    # On the demo's today the power of attorney expires in 34 days: not yet due within 30.
    assert not any(line.label == "document expiry" for line in demo_kb.brief("romashka").part("due").lines)


def test_product_facts_are_about_the_clients_editions(demo_kb: KnowledgeBase) -> None:
    facts = demo_kb.brief("romashka").part("facts").lines  # Склад Про Pro, CRM Норд Бизнес
    crm = [line for line in facts if line.label == "CRM Норд"]
    assert crm and {line.label for line in facts} == {"Склад Про", "CRM Норд"}
    for line in crm:  # the SLA of the Корпоративная edition and the Старт trial are other editions'
        assert line.source is not None and "SLA Корпоративный" not in line.source.heading_path
        assert "Корпоратив" not in line.text and "Старт" not in line.text, line.text
    for line in demo_kb.brief("stroymontazh").part("facts").lines:  # CRM Норд Корпоративная
        assert "Корпоратив" in line.text or not any(e in line.text for e in ("Старт", "Бизнес")), line.text


def test_the_clients_editions_are_read_from_its_products_part(demo_kb: KnowledgeBase) -> None:
    tables = {"sklad-pro": [["Старт", "Бизнес", "Pro"], ["Start", "Business", "Pro"]],
              "crm-nord": [["Старт", "Бизнес", "Корпоративная"]]}
    editions = {p: editions_of(t) for p, t in tables.items()}
    assert editions["sklad-pro"][1] == {"бизнес", "busi"}  # the datasheet's rows are the same editions
    spellings = {n.id: n.spellings for n in demo_kb.names().names if n.kind == "product"}

    def have(client: str, product: str) -> set[int]:
        path = demo_kb.settings.content_dir / "clients" / f"{client}.md"
        lines = [line.text for line in document_parts(parse(path.read_text("utf-8"), path.name), False)["products"]]
        return client_editions(lines, product, editions[product], spellings)

    assert (have("romashka", "sklad-pro"), have("romashka", "crm-nord")) == ({2}, {1})
    assert (have("alfa-mebel", "sklad-pro"), have("alfa-mebel", "crm-nord")) == ({1}, {0})
    assert have("balkan-soft", "sklad-pro") == {1, 2}  # "Sklad Pro Business and Pro": Pro of the name is no edition


FLEET = "Есть ли у Ромашки собственный автопарк?"


def test_asked_questions_are_answered_only_when_kb_was_confident(demo_copy: Settings, embedder: Embedder) -> None:
    kb = KnowledgeBase(demo_copy, embedder, clock=lambda: TODAY)
    said = [kb.ask(q) for q in ("Какая отсрочка платежа у Ромашки?", "Работает ли у Ромашки маркировка?", FLEET,
                                "У Ромашки свои грузовики есть?")]
    assert [r.verdict for r in said] == [CONFIDENT, UNSURE, REFUSED, REFUSED]
    asked = {line.text: line for line in kb.brief("romashka").part("questions").lines}
    sure = asked["Какая отсрочка платежа у Ромашки?"]
    assert sure.answered and sure.gap_id is None and sure.source is not None
    assert sure.source.path == "clients/romashka.md"
    gaps = kb.gaps()
    unsure = asked["Работает ли у Ромашки маркировка?"]  # answered, but kb was not sure: a gap, no citation
    assert not unsure.answered and unsure.source is None
    assert unsure.gap_id == next(g.id for g in gaps if "Работает ли у Ромашки маркировка?" in g.examples)
    fleet = asked["У Ромашки свои грузовики есть?"]  # two wordings, one gap
    assert (fleet.answered, fleet.count, fleet.gap_id) == (False, 2, said[2].gap_id)
    assert next(g for g in gaps if g.id == fleet.gap_id).count == 2
    assert kb.brief("romashka").as_dict()["parts"][CHECKLIST.index("questions")]["lines"][0]["gap_id"] == fleet.gap_id


CARD = """---
title: Acme Ltd
type: client
client: acme
owner: Ann Owner (ann@example.com)
verified: 2026-01-05
review_every: 90d
---
# Acme Ltd

## Contacts and Roles

### Operations
- Dana Wolf runs the warehouse.

### Who Signs Acceptance Acts
Bob Stone signs the acts.

### Decision Makers
Carl Diaz decides on the budget.

## Risks
- A competitor courts their CIO.

## Open Questions
- They wait for our quote.
"""


def test_who_decides_and_signs_and_open_questions_lead_their_parts() -> None:
    card = ClientDocument(parse(CARD, "clients/acme.md"), CARD, freshness("2026-01-05", "90d", TODAY))
    brief = assemble("acme", "Acme Ltd", "Ann Owner", TODAY, [card], {}, {})
    assert [line.text for line in brief.part("contacts").lines] == [
        "Carl Diaz decides on the budget.", "Bob Stone signs the acts.", "Dana Wolf runs the warehouse."]
    assert [line.text for line in brief.part("issues").lines] == ["They wait for our quote.",
                                                                   "A competitor courts their CIO."]
    review = brief.parts[0]  # an English card is warned about in English, cited to its verified line
    assert review.key == "review" and review.lines[0].text == (
        "The card has not been verified since 2026-01-05 (review was due by 2026-04-05)")
    assert review.lines[0].source is not None and review.lines[0].source.start_line == 6
