"""The web app in headless Chromium (Debian's package) against a real server on loopback."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from api.app import create_app
from kb.embedding import Embedder
from kb.settings import Settings
from kb.users import Users

from .conftest import build, copy_demo, copy_fixtures, make_settings

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(settings: Settings, embedder: Embedder, clock: Callable[[], dt.date] | None = None) -> Iterator[str]:
    """A real uvicorn server for ``settings`` on a free loopback port (``clock``: the day it takes as today)."""
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(settings, embedder, clock=clock), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("browser")
    copy_fixtures(tmp / "content")
    settings: Settings = make_settings(tmp, tmp / "content")
    build(settings, embedder)
    with serving(settings, embedder) as url:
        yield url


@contextmanager
def demo_site(tmp: Path, demo_settings: Settings, embedder: Embedder, today: dt.date,
              users: dict[str, str] | None = None) -> Iterator[tuple[str, Settings, dict[str, str]]]:
    """A served, writable copy of the demo knowledge base taking ``today`` as today, with ``users`` (name -> role):
    its URL, settings and the users' tokens."""
    settings = copy_demo(tmp, demo_settings)
    store = Users(settings.data_dir)
    tokens = {name: store.add(name, role) for name, role in (users or {}).items()}
    with serving(settings, embedder, clock=lambda: today) as url:
        yield url, settings, tokens


def sign_in(page: Page, url: str, token: str) -> None:
    """Sign in on the web app's sign-in page with ``token``."""
    page.goto(url + "/")
    expect(page.locator("#token")).to_be_visible(timeout=15_000)
    page.fill("#token", token)
    page.press("#token", "Enter")
    expect(page.locator("#question")).to_be_visible(timeout=15_000)


@contextmanager
def chromium(**context: Any) -> Iterator[Page]:
    """A page of Debian's headless Chromium in Russian (``context``: more browser-context options)."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make setup installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser.new_context(locale="ru-RU", **context).new_page()
        browser.close()


@pytest.fixture()
def page() -> Iterator[Page]:
    with chromium() as p:
        yield p


def test_ask_cite_open_section_and_report_a_gap(server: str, page: Page) -> None:
    page.goto(server + "/")
    question = "Кто подписывает акты у Ласточки?"
    page.fill("#question", question)
    page.press("#question", "Enter")
    expect(page.locator("#answer-text")).to_contain_text("Павел Орлов", timeout=30_000)
    expect(page.locator("#verdict")).not_to_have_text("")
    source = page.locator("#sources a.source").first
    expect(source).to_contain_text("clients/lastochka.md")

    source.click()
    expect(page.locator("#doc")).to_be_visible(timeout=15_000)
    highlighted = page.locator("#doc .hl")
    expect(highlighted.first).to_be_visible()
    assert "Павел Орлов" in " ".join(highlighted.all_inner_texts())

    page.go_back()
    page.fill("#question", "Есть ли у Ласточки собственный автопарк?")
    page.click("#ask")
    expect(page.locator("#answer")).to_be_visible(timeout=30_000)
    page.click("#unhelpful")
    expect(page.locator("#feedback-thanks")).to_be_visible()

    page.goto(server + "/#/gaps")
    expect(page.locator("table#gaps")).to_contain_text("Есть ли у Ласточки собственный автопарк?", timeout=15_000)


def test_client_page_asks_within_the_client(server: str, page: Page) -> None:
    page.goto(server + "/#/client/zenit")
    expect(page.locator("#view")).to_contain_text("АО «Зенит Трейд»", timeout=15_000)
    page.fill("#question", "Кто подписывает акты?")
    page.press("#question", "Enter")
    expect(page.locator("#answer-text")).to_contain_text("Антон Белов", timeout=30_000)
    for href in page.locator("#sources a.source").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        assert "clients/zenit.md" in href or "clients/" not in href  # the client's card or general documents


def test_english_switch_and_phone_width(server: str, page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(server + "/")
    page.click("#lang")
    expect(page.locator("#ask")).to_have_text("Ask")
    page.fill("#question", "What is the REST API rate limit?")
    page.press("#question", "Enter")
    expect(page.locator("#answer-text")).to_contain_text("600", timeout=30_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_sign_in_with_a_token_then_ask(tmp_path: Path, embedder: Embedder, page: Page) -> None:
    copy_fixtures(tmp_path / "content")
    settings = make_settings(tmp_path, tmp_path / "content")
    build(settings, embedder)
    token = Users(settings.data_dir).add("rita", "reader", ["sales"])
    with serving(settings, embedder) as url:
        page.goto(url + "/")
        expect(page.locator("#token")).to_be_visible(timeout=15_000)
        page.fill("#token", "kb_1_wrong-token-wrong-token-wrong")
        page.click("#signin")
        expect(page.locator("#error")).to_be_visible()
        page.fill("#token", token)
        page.press("#token", "Enter")
        expect(page.locator("#question")).to_be_visible(timeout=15_000)
        page.fill("#question", "Кто подписывает акты у Ласточки?")
        page.press("#question", "Enter")
        expect(page.locator("#answer-text")).to_contain_text("Павел Орлов", timeout=30_000)
        cookies = page.context.cookies()
        session = next(c for c in cookies if c["name"] == "kb_session")
        assert session["httpOnly"] and session["sameSite"] == "Strict"


def test_wrong_keyboard_layout_is_shown_as_understood(server: str, page: Page) -> None:
    page.goto(server + "/")
    page.fill("#question", "rnj gjlgbcsdftn frns e kfcnjxrb")
    page.press("#question", "Enter")
    expect(page.locator("#understood")).to_contain_text("кто подписывает акты у ласточки", timeout=30_000)
    expect(page.locator("#answer-text")).to_contain_text("Павел Орлов")
