"""The Due and Handover pages in headless Chromium on a private, writable copy of the demo content.

A colleague covers for Дмитрий Соколов: they see what is overdue for his clients, check a source, then open his
handover and work through the checklist of what he must still write down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from kb.embedding import Embedder
from kb.search import Index
from kb.settings import Settings

from .test_browser import chromium, demo_site

# The day the demo's dates are written for (Makefile: DEMO_TODAY): Romashka's "Запуск РЦ Колпино" (due
# 15.11.2026) is 17 days overdue then.
TODAY = dt.date(2026, 12, 2)
OWNER = "Дмитрий Соколов"
KOLPINO = "Запуск РЦ Колпино"
ORDER = ["overdue", "due", "later", "done", "past"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_settings: Settings, demo_index: Index,
           embedder: Embedder) -> Iterator[str]:
    with demo_site(tmp_path_factory.mktemp("handover-browser"), demo_settings, embedder, TODAY) as (url, _, _):
        yield url


@pytest.fixture()
def page() -> Iterator[Page]:
    with chromium(viewport={"width": 1100, "height": 900}) as p:
        yield p


def test_the_covering_colleague_sees_what_is_overdue_and_works_the_handover_checklist(server: str, page: Page) -> None:
    page.goto(server + "/")
    page.locator("#nav a[data-nav=due]").click()
    expect(page.locator("h1")).to_have_text("Сроки по клиентам")
    owner = page.locator(".due-owner", has=page.locator("h2", has_text=OWNER))
    item = owner.locator(".due-client[data-client=romashka] [data-testid=due-item]", has_text=KOLPINO)
    expect(item).to_have_attribute("data-status", "overdue", timeout=30_000)
    expect(item.locator("[data-testid=due-status]")).to_have_text("просрочено")
    expect(item).to_contain_text("15 ноября 2026")
    expect(item).to_contain_text("17 дн. назад")
    expect(item).to_contain_text("обещание")
    expect(item).to_contain_text(OWNER)
    statuses = owner.locator(".due-client[data-client=romashka] [data-testid=due-item]").evaluate_all(
        "els => els.map(e => e.dataset.status)")
    assert statuses[0] == "overdue" and statuses == sorted(statuses, key=ORDER.index)  # overdue first

    source = item.locator("[data-testid=due-source]")
    expect(source).to_contain_text("clients/romashka.md")
    assert "start=85" in (source.get_attribute("href") or "")
    source.click()
    expect(page.locator("#doc .hl").first).to_contain_text(KOLPINO, timeout=15_000)
    expect(page.locator(".doc-head .path")).to_contain_text("clients/romashka.md")

    page.go_back()
    owner = page.locator(".due-owner", has=page.locator("h2", has_text=OWNER))
    owner.locator("[data-testid=handover-link]").click()
    expect(page.locator("h1")).to_have_text(f"Передача дел: {OWNER}")
    romashka = page.locator("[data-testid=handover-client][data-client=romashka]")
    expect(romashka.locator("[data-testid=due-item]", has_text=KOLPINO)).to_have_attribute("data-status", "overdue",
                                                                                           timeout=30_000)
    expect(romashka.locator("[data-part=signers]")).to_contain_text("Маслов")

    checklist = page.locator("[data-testid=checklist]")
    items = checklist.locator("[data-testid=checklist-item]")
    expect(items.first).to_be_visible()
    count = items.count()
    missing = checklist.locator("[data-testid=checklist-item][data-kind=missing]").first
    item_id = missing.get_attribute("data-id")
    missing.locator("[data-testid=checklist-open]").click()
    form = missing.locator("[data-testid=checklist-form]")
    heading = form.locator("[data-testid=checklist-heading]").input_value()
    assert heading, "the missing part's heading is prefilled"
    form.locator("textarea").fill(f"{heading}: записал {OWNER} при передаче дел 02.12.2026, подробности — в CRM.")
    form.locator("[data-testid=checklist-save]").click()

    expect(items).to_have_count(count - 1, timeout=60_000)
    expect(checklist.locator(f"[data-id='{item_id}']")).to_have_count(0)
    expect(checklist.locator("[data-testid=answered]")).to_contain_text(heading)
    expect(page.locator("#error")).to_be_hidden()


def test_a_question_nobody_answered_is_answered_from_the_checklist(server: str, page: Page) -> None:
    question = "Есть ли у Ромашки собственный автопарк?"
    page.goto(server + "/#/client/romashka")
    page.fill("#question", question)
    page.press("#question", "Enter")
    expect(page.locator("#answer-text")).to_have_text("Нет в базе знаний", timeout=30_000)

    page.goto(server + "/#/handover/" + OWNER)
    checklist = page.locator("[data-testid=checklist]")
    gap = checklist.locator("[data-testid=checklist-item][data-kind=gap]", has_text=question)
    expect(gap).to_be_visible(timeout=30_000)
    gaps = page.locator("[data-testid=handover-client][data-client=romashka] [data-part=gaps]")
    expect(gaps).to_contain_text(question)
    count = checklist.locator("[data-testid=checklist-item]").count()
    gap.locator("[data-testid=checklist-open]").click()
    gap.locator("textarea").fill("Да: у «Ромашки» собственный автопарк из 14 грузовиков.")
    gap.locator("[data-testid=checklist-save]").click()
    expect(checklist.locator("[data-testid=checklist-item]")).to_have_count(count - 1, timeout=60_000)
    expect(checklist.locator("[data-testid=answered]")).to_contain_text("clients/romashka-faq.md")


def test_the_handover_prints_without_navigation_buttons_or_forms(server: str, page: Page) -> None:
    page.goto(server + "/#/handover/" + OWNER)
    expect(page.locator("[data-testid=handover-client]").first).to_be_visible(timeout=30_000)
    page.emulate_media(media="print")
    for hidden in ("header.top", "#print", "#reassign", "[data-testid=checklist-open]"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.locator("[data-testid=checklist-item]").first).to_be_visible()
    style = page.locator("[data-testid=handover-client]").first.evaluate(
        "e => [getComputedStyle(e).breakInside, getComputedStyle(e).color,"
        " getComputedStyle(document.body).backgroundColor]")
    assert style == ["avoid", "rgb(0, 0, 0)", "rgb(255, 255, 255)"]


def test_due_page_filters_by_owner_and_window_and_speaks_english(server: str, page: Page) -> None:
    page.goto(server + "/#/due")
    expect(page.locator(".due-owner").first).to_be_visible(timeout=30_000)
    assert page.locator(".due-owner").count() > 1
    page.select_option("#due-owner", OWNER)
    expect(page.locator(".due-owner")).to_have_count(1)
    expect(page.locator(".due-owner h2")).to_have_text(OWNER)
    page.fill("#due-within", "60")
    page.press("#due-within", "Enter")
    expect(page.locator("[data-testid=due-status][data-status=due]").first).to_have_text("в ближайшие 60 дней")
    assert "within=60" in page.url
    page.click("#lang")
    expect(page.locator("h1")).to_have_text("Client due dates")
    expect(page.locator("[data-testid=due-item]", has_text=KOLPINO).locator("[data-testid=due-status]")).to_have_text(
        "overdue")
    expect(page.locator("[data-testid=due-item]", has_text=KOLPINO)).to_contain_text("17 d ago")


def test_clients_are_handed_over_to_another_owner(server: str, page: Page) -> None:
    page.goto(server + "/#/handover/" + OWNER)
    expect(page.locator("[data-testid=handover-client][data-client=baltfood]")).to_be_visible(timeout=30_000)
    page.fill("#reassign-to", "Елена Кузнецова")
    page.select_option("#reassign-client", "baltfood")
    page.click("[data-testid=reassign]")
    expect(page.locator("[data-testid=reassigned]")).to_contain_text("clients/baltfood.md", timeout=60_000)
    expect(page.locator("[data-testid=handover-client][data-client=baltfood]")).to_have_count(0)
    expect(page.locator("[data-testid=handover-client][data-client=romashka]")).to_be_visible()

    page.goto(server + "/#/due?owner=" + "Елена Кузнецова")
    expect(page.locator(".due-owner .due-client[data-client=baltfood]")).to_be_visible(timeout=30_000)
