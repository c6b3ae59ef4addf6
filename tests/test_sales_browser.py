"""The sales features in headless Chromium on a private copy of the demo content."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from api.app import create_app
from kb.embedding import Embedder
from kb.search import Index
from kb.settings import Settings

from .conftest import TODAY, copy_demo
from .test_browser import CHROMIUM, FLAGS, _free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_settings: Settings, demo_index: Index,
           embedder: Embedder) -> Iterator[str]:
    settings = copy_demo(tmp_path_factory.mktemp("sales-browser"), demo_settings)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(settings, embedder, clock=lambda: TODAY), host="127.0.0.1",
                                        port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture()
def page(tmp_path: Path) -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make setup installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(locale="ru-RU", viewport={"width": 1100, "height": 900})
        yield context.new_page()
        browser.close()


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
