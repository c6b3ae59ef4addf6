"""The sales features in headless Chromium on a private copy of the demo content."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from kb.embedding import Embedder
from kb.search import Index
from kb.settings import Settings

from .conftest import TODAY
from .test_browser import chromium, demo_site


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_settings: Settings, demo_index: Index,
           embedder: Embedder) -> Iterator[str]:
    with demo_site(tmp_path_factory.mktemp("sales-browser"), demo_settings, embedder, TODAY) as (url, _, _):
        yield url


@pytest.fixture()
def page() -> Iterator[Page]:
    with chromium(viewport={"width": 1100, "height": 900}) as p:
        yield p


def test_client_page_briefs_with_citations(server: str, page: Page) -> None:
    page.goto(server + "/#/client/romashka")
    payment = page.locator("#brief [data-part=payment]")
    expect(payment).to_contain_text("45 календарных дней", timeout=30_000)
    cite = payment.locator("a.cite").first
    expect(cite).to_have_text("romashka.md:46")
    assert "start=46" in (cite.get_attribute("href") or "")
    expect(page.locator("#brief [data-part=contacts]")).to_contain_text("Маслов")
    cite.click()
    expect(page.locator("#doc .hl").first).to_contain_text("45 календарных дней", timeout=15_000)


def test_a_gap_is_answered_on_the_gaps_page_and_then_cited(server: str, page: Page) -> None:
    question = "Есть ли у Ромашки собственный автопарк?"
    page.goto(server + "/#/client/romashka")
    page.fill("#question", question)
    page.press("#question", "Enter")
    expect(page.locator("#answer-text")).to_have_text("Нет в базе знаний", timeout=30_000)

    page.goto(server + "/#/gaps")
    row = page.locator("tr.gap", has_text=question)
    expect(row).to_contain_text("Дмитрий Соколов", timeout=15_000)
    form = row.locator("xpath=following-sibling::tr[1]")
    form.locator("textarea").fill("Да: у «Ромашки» собственный автопарк из 14 грузовиков.")
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-testid=answered]")).to_contain_text("clients/romashka-faq.md", timeout=60_000)

    page.goto(server + "/#/client/romashka")
    page.fill("#question", question)
    page.press("#question", "Enter")
    expect(page.locator("#answer-text")).to_contain_text("14 грузовиков", timeout=30_000)
    expect(page.locator("#sources a.source").first).to_contain_text("clients/romashka-faq.md")


def test_stale_sources_are_flagged_reported_and_verified(server: str, page: Page) -> None:
    page.goto(server + "/")
    page.fill("#question", "Какая отсрочка платежа у Волга-Текстиль?")
    page.press("#question", "Enter")
    first = page.locator("#sources li").first
    expect(first.locator("a.source")).to_contain_text("clients/volga-textile.md", timeout=30_000)
    expect(first.locator(".stale")).to_be_visible()

    page.goto(server + "/#/stale")
    report = page.locator("#stale")
    expect(report).to_contain_text("ООО «Волга-Текстиль»", timeout=15_000)
    expect(report).to_contain_text("Подарки, представительские расходы и командировки")
    report.locator("a", has_text="ООО «Волга-Текстиль»").click()
    expect(page.locator(".doc-head .stale")).to_be_visible(timeout=15_000)
    page.click("#mark-verified")
    expect(page.locator("#verify-status")).to_contain_text("2026-11-27", timeout=60_000)
    expect(page.locator(".doc-head .stale")).to_have_count(0)

    page.goto(server + "/#/stale")
    expect(page.locator("#stale")).to_contain_text("Подарки", timeout=15_000)
    expect(page.locator("#stale")).not_to_contain_text("Волга-Текстиль")


def test_coverage_page_shows_single_owner_clients(server: str, page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(server + "/#/coverage")
    row = page.locator("#coverage tr", has_text="ООО «Ромашка»")
    expect(row).to_contain_text("один владелец", timeout=15_000)
    expect(page.locator("#single-owner")).to_contain_text("Дмитрий Соколов")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


# An English question about a Russian client card that kb answers with the right fact today: the client is
# understood from its transliterated name ("Romashka" -> ООО «Ромашка»).
ROMASHKA_EN = "What is the email of Romashka's IT director?"


def test_the_client_a_question_names_is_shown_with_its_answer(server: str, page: Page) -> None:
    page.goto(server + "/")
    page.fill("#question", ROMASHKA_EN)
    page.press("#question", "Enter")
    marker = page.locator("[data-testid=about-client]")
    expect(marker).to_contain_text("О клиенте: ООО «Ромашка»", timeout=30_000)
    expect(page.locator("#answer-text")).to_contain_text("k.ershov@romashka-dom.example")
    expect(marker.locator("a")).to_have_attribute("href", "#/client/romashka")
    expect(marker.locator("[data-testid=clear-client]")).to_have_attribute("title", "Спрашивать по всем клиентам")
    expect(page.locator("[data-testid=client-candidates]")).to_have_count(0)


def test_clearing_the_client_asks_across_all_clients(server: str, page: Page) -> None:
    asked: list[dict[str, object]] = []
    page.on("request", lambda r: asked.append(r.post_data_json) if r.url.endswith("/api/ask") else None)
    page.goto(server + "/")
    page.fill("#question", ROMASHKA_EN)
    page.press("#question", "Enter")
    expect(page.locator("[data-testid=about-client]")).to_be_visible(timeout=30_000)
    page.click("[data-testid=clear-client]")
    expect(page.locator("[data-testid=about-client]")).to_have_count(0, timeout=30_000)
    expect(page.locator("#answer-text")).not_to_have_text("")
    assert asked[-1] == {"question": ROMASHKA_EN, "resolve_client": False}


def test_a_client_chosen_in_the_form_is_shown_without_a_clear_button(server: str, page: Page) -> None:
    page.goto(server + "/")
    page.select_option("#client", "romashka")
    page.fill("#question", "Кто подписывает акты?")
    page.press("#question", "Enter")
    marker = page.locator("[data-testid=about-client]")
    expect(marker).to_contain_text("О клиенте: ООО «Ромашка»", timeout=30_000)
    expect(page.locator("#answer-text")).to_contain_text("Маслов")
    expect(marker.locator("[data-testid=clear-client]")).to_have_count(0)


def test_several_named_clients_are_offered_and_one_is_picked(server: str, page: Page) -> None:
    page.goto(server + "/")
    page.fill("#question", "What is the payment deferral for Romashka or Volga-Textile?")
    page.press("#question", "Enter")
    line = page.locator("[data-testid=client-candidates]")
    expect(line.locator("a")).to_have_count(2, timeout=30_000)
    expect(page.locator("[data-testid=about-client]")).to_have_count(0)
    line.locator("a", has_text="Ромашка").click()
    expect(page.locator("[data-testid=about-client]")).to_contain_text("ООО «Ромашка»", timeout=30_000)
    expect(page.locator("[data-testid=client-candidates]")).to_have_count(0)
    assert "#/client" not in page.url  # asked again on the same page, not sent to the client's page


def test_a_refusal_about_a_client_says_what_its_documents_have(server: str, page: Page) -> None:
    page.goto(server + "/")
    page.fill("#question", "Какой лимит API у Ромашки?")  # other cards have an "API limit" section, hers has not
    page.press("#question", "Enter")
    expect(page.locator("#answer-text")).to_have_text("Нет в базе знаний", timeout=30_000)
    expect(page.locator("[data-testid=refusal-note]")).to_contain_text("В документах клиента ООО «Ромашка» этого нет")
    expect(page.locator("[data-testid=about-client]")).to_contain_text("О клиенте: ООО «Ромашка»")
    page.click("#lang")  # the saved answer is drawn again in English
    expect(page.locator("[data-testid=about-client]")).to_contain_text("About: ООО «Ромашка»")
    expect(page.locator("[data-testid=clear-client]")).to_have_attribute("title", "Ask across all clients")
