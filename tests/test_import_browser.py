"""The Import page in headless Chromium on a private, writable copy of the demo content.

An editor uploads a Word note about Ромашка (made here with python-docx), previews it, imports it and asks about
it on the main page; a disguised file is refused with its reason; an amoCRM export is shown as a dry run first.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from playwright.sync_api import expect

from kb.embedding import Embedder
from kb.search import Index
from kb.settings import Settings

from .conftest import FIXTURES, TODAY
from .test_browser import chromium, demo_site, sign_in

FACT = "Пропуск на РЦ Шушары оформляет охрана за 3 рабочих дня"
QUESTION = "Кто оформляет пропуск на РЦ Шушары у Ромашки и за сколько дней?"
AMOCRM = FIXTURES / "crm" / "amocrm.csv"

Site = tuple[str, Settings, dict[str, str]]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, demo_settings: Settings, demo_index: Index,
         embedder: Embedder) -> Iterator[Site]:
    with demo_site(tmp_path_factory.mktemp("import-browser"), demo_settings, embedder, TODAY,
                   {"eva": "editor", "rita": "reader"}) as found:
        yield found



def pass_note(folder: Path) -> Path:
    """A client-specific Word note: a heading, a paragraph with the fact and a short list."""
    d = docx.Document()
    d.add_heading("Пропуск на РЦ Шушары для Ромашки", 1)
    d.add_paragraph(f"{FACT}: заявку на водителя и машину присылают начальнику смены заранее.")
    d.add_heading("Что указать в заявке", 2)
    for item in ("ФИО водителя и номер паспорта", "Марку и госномер машины", "Дату и окно выгрузки"):
        d.add_paragraph(item, style="List Bullet")
    out = io.BytesIO()
    d.save(out)
    file = folder / "пропуск-шушары.docx"
    file.write_bytes(out.getvalue())
    return file


def test_a_word_note_is_previewed_imported_and_then_answers_with_its_source(site: Site, tmp_path: Path) -> None:
    url, settings, tokens = site
    note = pass_note(tmp_path)
    with chromium(viewport={"width": 1100, "height": 900}) as page:
        sign_in(page, url, tokens["eva"])
        page.click('#nav [data-nav="import"]')
        expect(page.locator("h1")).to_have_text("Импорт")
        expect(page.locator("#import-owner")).to_have_value("eva")  # the signed-in user
        expect(page.locator("#import-type option")).to_have_count(6)  # the server's default and five types
        page.set_input_files("#import-files", str(note))
        page.select_option("#import-client", "romashka")

        page.click("#import-preview")
        item = page.locator("#import-results li.import-item")
        expect(item).to_have_attribute("data-status", "preview", timeout=30_000)
        expect(item.locator("[data-testid=import-status]")).to_have_text("можно импортировать")
        path = item.locator("[data-testid=import-path]").inner_text()
        assert re.fullmatch(r"clients/romashka-[\w-]+\.md", path), path
        markdown = item.locator("[data-testid=import-markdown]")
        expect(markdown).to_contain_text("client: romashka")
        expect(markdown).to_contain_text("owner: eva")
        expect(markdown).to_contain_text("source: пропуск-шушары.docx")
        expect(markdown).to_contain_text("# Пропуск на РЦ Шушары для Ромашки")
        expect(markdown).to_contain_text(FACT)
        expect(markdown).to_contain_text("- Марку и госномер машины")
        expect(page.locator("#import-summary")).to_contain_text("Ничего не записано")
        assert not (settings.content_dir / path).exists()  # a preview writes nothing

        page.click("#import-run")
        expect(item).to_have_attribute("data-status", "imported", timeout=60_000)
        expect(item.locator("[data-testid=import-status]")).to_have_text("импортирован")
        expect(item.locator("[data-testid=import-path]")).to_have_text(path)
        expect(item.locator("[data-testid=import-open]")).to_have_attribute("href", f"#/doc/{path}")
        expect(item.locator("[data-testid=import-edit]")).to_have_attribute("href", f"#/edit/{path}")
        expect(page.locator("#import-summary")).to_have_text("Импортировано 1 из 1, не принято 0.")
        text = (settings.content_dir / path).read_text("utf-8")
        assert FACT in text and "client: romashka" in text and "owner: eva" in text

        item.locator("[data-testid=import-open]").click()
        expect(page.locator("#doc")).to_contain_text(FACT, timeout=15_000)

        page.goto(url + "/#/")
        page.fill("#question", QUESTION)
        page.press("#question", "Enter")
        expect(page.locator("#answer-text")).to_contain_text("охрана", timeout=30_000)
        expect(page.locator("#answer-text")).to_contain_text("3 рабочих дня")
        expect(page.locator("#sources a.source").first).to_contain_text(path)  # the new document, cited first


def test_each_file_gets_its_own_result_and_a_disguised_one_its_reason(site: Site, tmp_path: Path) -> None:
    url, settings, tokens = site
    fake = tmp_path / "contract.docx"
    fake.write_text("Договор поставки: это просто текст, а не документ Word.", encoding="utf-8")
    memo = tmp_path / "памятка.txt"
    memo.write_text("Памятка по отгрузкам\n\nОтгрузки на склады клиентов по субботам не планируем.\n", encoding="utf-8")
    before = set(settings.content_dir.rglob("*.md"))
    with chromium(viewport={"width": 1100, "height": 900}) as page:
        sign_in(page, url, tokens["eva"])
        page.goto(url + "/#/new")
        page.click("#new-import")  # the New document page links here too
        expect(page.locator("h1")).to_have_text("Импорт")
        page.set_input_files("#import-files", [str(fake), str(memo)])
        page.click("#import-run")
        items = page.locator("#import-results li.import-item")
        expect(items).to_have_count(2)
        expect(items.nth(1)).to_have_attribute("data-status", "imported", timeout=60_000)
        refused = items.nth(0)
        expect(refused).to_have_attribute("data-status", "refused")
        expect(refused).to_have_attribute("data-file", "contract.docx")
        expect(refused.locator("[data-testid=import-status]")).to_have_text("не принят")
        expect(refused.locator("[data-testid=import-reason]")).to_contain_text(
            "contract.docx: named .docx but its content is plain text")
        expect(page.locator("#import-summary")).to_have_text("Импортировано 1 из 2, не принято 1.")
        written = items.nth(1).locator("[data-testid=import-path]").inner_text()
        assert written == "imported/pamyatka.md"
        assert set(settings.content_dir.rglob("*.md")) - before == {settings.content_dir / written}  # not contract

        page.click("#import-run")  # the chosen files were cleared after the import: no copies by a second click
        expect(page.locator("#import-summary")).to_contain_text("Выберите хотя бы один файл.")

        page.click("#lang")
        expect(page.locator("h1")).to_have_text("Import")
        expect(page.locator("#import-preview")).to_have_text("Preview")
        expect(page.locator("#crm-preview")).to_have_text("Show the changes")


def test_an_amocrm_export_shows_its_diff_before_it_is_imported(site: Site, tmp_path: Path) -> None:
    url, settings, tokens = site
    new_card = settings.content_dir / "clients" / "polyarnaya-zvezda.md"
    card = settings.content_dir / "clients" / "romashka.md"
    romashka = card.read_text("utf-8")
    with chromium(viewport={"width": 1100, "height": 900}) as page:
        sign_in(page, url, tokens["eva"])
        page.goto(url + "/#/import")
        expect(page.locator("#crm-owner")).to_have_value("eva")
        page.set_input_files("#crm-file", str(AMOCRM))
        page.select_option("#crm-format", "amocrm")
        page.click("#crm-preview")
        files = page.locator("#crm-files li.crm-file")
        expect(files).to_have_count(2, timeout=30_000)
        expect(page.locator("[data-testid=crm-summary]")).to_contain_text("Ничего не записано")
        created = page.locator("li.crm-file[data-action=created]")
        expect(created).to_have_attribute("data-path", "clients/polyarnaya-zvezda.md")
        expect(created.locator("[data-testid=crm-action]")).to_have_text("будет создана")
        expect(created).to_contain_text("контактов: 2, сделок: 2")
        expect(created.locator("pre[data-testid=crm-diff]")).to_be_visible()
        expect(created.locator("pre .d-add", has_text="+title: ООО «Полярная звезда»")).to_have_count(1)
        expect(created.locator("[data-testid=crm-open]")).to_have_count(0)  # no card to open yet
        updated = page.locator("li.crm-file[data-action=updated]")
        expect(updated).to_have_attribute("data-path", "clients/romashka.md")
        expect(updated.locator("pre[data-testid=crm-diff]")).to_contain_text("+++ b/clients/romashka.md")
        expect(updated.locator("pre[data-testid=crm-diff]")).to_contain_text("Константин Ершов")
        assert not new_card.exists() and card.read_text("utf-8") == romashka  # a dry run writes nothing

        page.click("#crm-run")
        expect(page.locator("[data-testid=crm-summary]")).to_contain_text("создано 1, обновлено 1", timeout=60_000)
        expect(created.locator("[data-testid=crm-action]")).to_have_text("создана")
        link = created.locator("[data-testid=crm-open]")
        expect(link).to_have_attribute("href", "#/doc/clients/polyarnaya-zvezda.md")
        assert new_card.exists()
        link.click()
        expect(page.locator("#doc")).to_contain_text("Анна Котова", timeout=15_000)

        picture = tmp_path / "deals.csv"
        picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
        page.goto(url + "/#/import")
        page.set_input_files("#crm-file", str(picture))
        page.click("#crm-preview")  # not a table: the server's reason, shown where the report would be
        expect(page.locator("[data-testid=crm-error]")).to_contain_text("deals.csv is neither CSV text nor an XLSX",
                                                                        timeout=30_000)
        expect(page.locator("#crm-files")).to_have_count(0)


def test_readers_get_no_import_page(site: Site) -> None:
    url, _, tokens = site
    with chromium() as page:
        sign_in(page, url, tokens["rita"])
        expect(page.locator('#nav [data-nav="import"]')).to_have_count(0)
        page.goto(url + "/#/import")
        expect(page.locator("[data-testid=import-no-rights]")).to_have_text("Импорт доступен только редакторам.")
        expect(page.locator("#import-files")).to_have_count(0)
