"""Editing in the web app (headless Chromium against a real server): edit, preview, save, conflicts, history."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kb.embedding import Embedder
from kb.search import Index
from kb.settings import Settings

from .conftest import TODAY
from .test_browser import chromium, demo_site, sign_in

CARD = "clients/romashka.md"
OTHER = "clients/severtrans.md"
FLEET = "Есть ли у Ромашки собственный автопарк?"
FLEET_LINE = "У «Ромашки» собственный автопарк: 14 грузовиков, доставкой в магазины управляет РЦ Шушары."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, demo_settings: Settings, demo_index: Index,
         embedder: Embedder) -> Iterator[tuple[str, Settings, dict[str, str]]]:
    with demo_site(tmp_path_factory.mktemp("editing-browser"), demo_settings, embedder, TODAY,
                   {"eva": "editor", "oleg": "editor", "rita": "reader"}) as found:
        yield found



def open_editor(page: Page, url: str, path: str) -> str:
    page.goto(f"{url}/#/doc/{path}")
    page.click("#edit-doc")
    area = page.locator("#editor-text")
    expect(area).to_be_visible(timeout=15_000)
    expect(page.locator("#preview h2").first).to_be_visible(timeout=15_000)
    return area.input_value()


def test_an_editor_edits_a_client_card_and_the_next_answer_cites_it(site: tuple[str, Settings, dict[str, str]]
                                                                     ) -> None:
    url, settings, tokens = site
    with chromium() as page:  # readers see no edit button
        sign_in(page, url, tokens["rita"])
        page.goto(f"{url}/#/doc/{CARD}")
        expect(page.locator("#doc")).to_be_visible(timeout=15_000)
        expect(page.locator("#edit-doc")).to_have_count(0)
        expect(page.locator('#nav [data-nav="new"]')).to_have_count(0)

    with chromium() as page:
        sign_in(page, url, tokens["eva"])
        page.goto(f"{url}/#/doc/{CARD}")
        expect(page.locator("#edit-doc")).to_have_text("Править", timeout=15_000)
        text = open_editor(page, url, CARD)
        assert text == (settings.content_dir / CARD).read_text("utf-8")
        expect(page.locator("#history li.version")).to_have_count(0)

        broken = text.replace("## Контакты и роли",
                              "## Автопарк\n\nСм. [парк](../fleet/none.md).\n\n## Контакты и роли")
        page.fill("#editor-text", broken)
        page.click("#save")
        errors = page.locator("#lint-errors li")
        expect(errors).to_have_count(1, timeout=15_000)
        expect(errors.first).to_contain_text(f"строка {broken.splitlines().index('См. [парк](../fleet/none.md).') + 1}")
        expect(errors.first).to_contain_text("no file fleet/none.md")
        assert (settings.content_dir / CARD).read_text("utf-8") == text

        fixed = text.replace("## Контакты и роли", f"## Автопарк\n\n{FLEET_LINE}\n\n## Контакты и роли")
        page.fill("#editor-text", fixed)
        expect(page.locator("#preview")).to_contain_text("14 грузовиков", timeout=15_000)  # the live preview
        expect(page.locator("#preview h2", has_text="Автопарк")).to_have_attribute("id", "ооо-ромашка-автопарк")
        page.keyboard.press("Control+s")
        expect(page.locator("#edit-status")).to_contain_text("Сохранено", timeout=30_000)
        expect(page.locator("#lint-errors")).to_have_count(0)
        assert (settings.content_dir / CARD).read_text("utf-8") == fixed
        expect(page.locator("#history li.version")).to_have_count(2)  # as it was, and eva's
        expect(page.locator("#history li.version").first).to_contain_text("eva")

        page.goto(url + "/#/")
        page.fill("#question", FLEET)
        page.press("#question", "Enter")
        expect(page.locator("#answer-text")).to_contain_text("14 грузовиков", timeout=30_000)
        source = page.locator("#sources a.source").first
        expect(source).to_contain_text(CARD)
        source.click()
        expect(page.locator("#doc .hl").first).to_be_visible(timeout=15_000)
        assert FLEET_LINE in " ".join(page.locator("#doc .hl").all_inner_texts())  # the new line, highlighted


def test_two_editors_on_one_document_get_a_conflict_with_both_versions(
        site: tuple[str, Settings, dict[str, str]]) -> None:
    url, settings, tokens = site
    file = settings.content_dir / OTHER
    original = file.read_text("utf-8")
    with chromium() as eva:
        browser = eva.context.browser
        assert browser is not None
        oleg = browser.new_context(locale="ru-RU").new_page()  # a second session: its own cookies
        sign_in(eva, url, tokens["eva"])
        sign_in(oleg, url, tokens["oleg"])
        text = open_editor(eva, url, OTHER)
        assert open_editor(oleg, url, OTHER) == text
        lines = text.splitlines()
        body = next(i for i, line in enumerate(lines) if i > 10 and len(line) > 40 and not line.startswith(("#", "|")))
        first = text.replace(lines[body], lines[body] + " Правка Евы.")

        eva.fill("#editor-text", first)
        eva.click("#save")
        expect(eva.locator("#edit-status")).to_contain_text("Сохранено", timeout=30_000)

        second = text + "\nЗаметка Олега.\n"
        oleg.fill("#editor-text", second)
        oleg.click("#save")
        conflict = oleg.locator("#conflict")
        expect(conflict).to_be_visible(timeout=15_000)
        expect(oleg.locator("#conflict-yours")).to_contain_text("Заметка Олега.")
        expect(oleg.locator("#conflict-yours")).not_to_contain_text("Правка Евы.")
        expect(oleg.locator("#conflict-theirs")).to_contain_text("Правка Евы.")
        expect(oleg.locator("#conflict-theirs")).not_to_contain_text("Заметка Олега.")
        marked = {side: " ".join(oleg.locator(f"#conflict-{side} .diff").all_inner_texts())
                  for side in ("yours", "theirs")}
        assert "Заметка Олега." in marked["yours"] and "Правка Евы." in marked["theirs"]  # what differs is marked
        assert "Правка Евы." not in marked["yours"] and lines[0] not in marked["yours"] + marked["theirs"]
        assert file.read_text("utf-8") == first  # nothing of Eva's lost, nothing of Oleg's written

        oleg.click("#take-theirs")
        expect(conflict).to_have_count(0)
        assert oleg.locator("#editor-text").input_value() == first
        oleg.fill("#editor-text", first + "\nЗаметка Олега.\n")
        oleg.click("#save")
        expect(oleg.locator("#edit-status")).to_contain_text("Сохранено", timeout=30_000)
        assert "Правка Евы." in file.read_text("utf-8") and "Заметка Олега." in file.read_text("utf-8")

        # Eva's page is stale now: overwriting with hers needs the conflict first
        eva.fill("#editor-text", first.replace("Правка Евы.", "Правка Евы, вторая."))
        eva.click("#save")
        expect(eva.locator("#conflict")).to_be_visible(timeout=15_000)
        eva.click("#keep-mine")
        expect(eva.locator("#edit-status")).to_contain_text("Сохранено", timeout=30_000)
        assert "Правка Евы, вторая." in file.read_text("utf-8") and "Заметка Олега." not in file.read_text("utf-8")

        # the history: every save, the text before kb, and a restore
        history = eva.locator("#history li.version")
        expect(history).to_have_count(4, timeout=15_000)
        oldest = history.last
        expect(oldest).to_contain_text("до правок в kb")
        oldest.locator("button.view-version").click()
        expect(oldest.locator(".version-doc")).to_be_visible(timeout=15_000)
        expect(oldest.locator(".version-doc")).not_to_contain_text("Правка Евы")
        eva.once("dialog", lambda d: d.accept())
        oldest.locator("button.restore-version").click()
        expect(eva.locator("#edit-status")).to_contain_text("Версия восстановлена", timeout=30_000)
        assert file.read_text("utf-8") == original
        assert eva.locator("#editor-text").input_value() == original
        expect(history).to_have_count(5)
        expect(history.first.locator(".badge")).to_have_text("текущая")


def test_a_new_document_from_a_template_opens_in_the_editor(site: tuple[str, Settings, dict[str, str]]) -> None:
    url, settings, tokens = site
    with chromium() as page:
        sign_in(page, url, tokens["eva"])
        page.click('#nav [data-nav="new"]')
        expect(page.locator("#new-type option")).to_have_count(5)
        page.select_option("#new-type", "playbook")
        page.fill("#new-title", "Встреча с отделом закупок")
        page.click('[data-testid="create"]')
        expect(page).to_have_url(re.compile(r"#/edit/playbooks/vstrecha-s-otdelom-zakupok\.md$"), timeout=15_000)
        text = page.locator("#editor-text").input_value()
        assert "type: playbook" in text and "owner: eva" in text and "## Шаги" in text
        assert Path(settings.content_dir / "playbooks" / "vstrecha-s-otdelom-zakupok.md").read_text("utf-8") == text
        page.goto(url + "/#/new")
        page.select_option("#new-type", "playbook")
        page.fill("#new-title", "Встреча с отделом закупок")
        page.click('[data-testid="create"]')
        expect(page.locator("#error")).to_contain_text("already exists", timeout=15_000)
