"""Import from the CRM: amoCRM and Bitrix24 exports (CSV and XLSX, made here or kept in tests/fixtures/crm) create
client cards and update the generated sections of existing ones, on a writable copy of the demo content."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb import crm
from kb.embedding import Embedder
from kb.errors import BadInput
from kb.service import KnowledgeBase
from kb.settings import Settings
from kb.users import Users

from .conftest import FIXTURES, make_settings

EXAMPLES = FIXTURES / "crm"  # example exports; fixture copies of the knowledge base leave this folder out
DAY = dt.date(2026, 12, 2)
SOKOLOV = "Дмитрий Соколов (d.sokolov@seversoft.example)"
KUZNETSOVA = "Елена Кузнецова (e.kuznetsova@seversoft.example)"


def snapshot(content: Path) -> dict[str, bytes]:
    return {p.relative_to(content).as_posix(): p.read_bytes() for p in sorted(content.rglob("*")) if p.is_file()}


def xlsx(rows: list[list[object]], title: str = "Сделки") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def outside(text: str, *headings: str) -> list[str]:
    """The lines of ``text`` outside kb's generated sections."""
    lines = text.splitlines(keepends=True)
    for heading in headings:
        region = crm.find_section(lines, heading)
        if region is not None:
            lines = lines[:region.start] + lines[region.end:]
    return lines


def test_an_amocrm_export_creates_a_card_and_updates_the_card_it_names(demo_copy: Settings,
                                                                      embedder: Embedder) -> None:
    kb = KnowledgeBase(demo_copy, embedder, clock=lambda: DAY)
    content = demo_copy.content_dir
    romashka_before = (content / "clients/romashka.md").read_text(encoding="utf-8")

    report = crm.import_crm_file(kb, EXAMPLES / "amocrm.csv", "amocrm")

    assert (report.kind, report.rows, report.skipped_rows, report.reindexed) == ("csv", 4, 0, True)
    assert report.counts() == {"created": 1, "updated": 1, "unchanged": 0, "skipped": 0}
    created, updated = report.files
    assert (created.action, created.path, created.client) == ("created", "clients/polyarnaya-zvezda.md",
                                                              "polyarnaya-zvezda")
    assert (created.contacts, created.deals) == (2, 2) and created.diff.startswith("--- /dev/null")
    # "Romashka LLC" (Latin, legal form) and 'ООО "Ромашка"' (straight quotes) both name «Ромашка»
    assert (updated.action, updated.path, updated.client) == ("updated", "clients/romashka.md", "romashka")
    assert updated.company == 'Romashka LLC / ООО "Ромашка"' and (updated.contacts, updated.deals) == (2, 2)

    card = (content / "clients/polyarnaya-zvezda.md").read_text(encoding="utf-8")
    assert card.startswith("---\ntitle: ООО «Полярная звезда»\ntype: client\nclient: polyarnaya-zvezda\n")
    assert f"owner: {SOKOLOV}\nverified: 2026-12-02\n" in card  # «Соколов Дмитрий» in the CRM, as the content writes
    assert "## Контакты и роли" in card and "## История" in card  # the client template
    assert ("## Контакты из CRM\n\n[//]: # (kb import-crm: amocrm 2026-12-02; " in card
            and "| ФИО | Должность | Телефон | Email |\n|---|---|---|---|\n"
                "| Анна Котова | финансовый директор | +7 (812) 555-12-34 | a.kotova@polar-star.example |\n"
                "| Игорь Лебедев | ИТ-директор | +7 (812) 555-43-21, +7 (921) 555-43-22 | "
                "i.lebedev@polar-star.example |\n" in card)
    assert ("| Сделка | Сумма | Этап | Ответственный | Дата |\n|---|---|---|---|---|\n"
            "| Склад Про Pro, 20 лицензий | 1 560 000 ₽ | Переговоры | Соколов Дмитрий | 02.11.2026 |\n"
            "| Внедрение ТСД | 240 000 ₽ | Первичный контакт | Соколов Дмитрий | 10.11.2026 |\n") in card

    romashka = (content / "clients/romashka.md").read_text(encoding="utf-8")
    assert romashka.startswith(romashka_before)  # every hand-written byte as it was; kb's sections at the end
    added = romashka[len(romashka_before):]
    assert added.startswith("\n## Контакты из CRM\n") and "\n## Сделки из CRM\n" in added
    assert "| ДС № 3: РЦ Колпино | 1 344 000 ₽ | Согласование договора | Соколов Дмитрий | 09.09.2026 |\n" \
           "| Продление CRM Норд на 2027 год | 896 400 ₽ | Успешно реализовано |" in added  # oldest first

    store = kb.store()
    assert store.document("clients/polyarnaya-zvezda.md") is not None
    result = kb.ask("Какой телефон у Анны Котовой из «Полярной звезды»?")
    assert result.answer.answered and "555-12-34" in (result.answer.answer or "")
    assert result.answer.sources[0].path == "clients/polyarnaya-zvezda.md"
    assert kb.names().match("ООО Полярная Звезда").client == "polyarnaya-zvezda"

    files = snapshot(content)
    again = crm.import_crm_file(kb, EXAMPLES / "amocrm.csv", "amocrm", today=DAY + dt.timedelta(days=3))
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 2, "skipped": 0}
    assert not again.reindexed and not again.changed and all(f.diff == "" for f in again.files)
    assert snapshot(content) == files  # not even the mark's date moved


def test_a_reimport_rewrites_only_the_generated_sections(demo_copy: Settings, embedder: Embedder) -> None:
    kb = KnowledgeBase(demo_copy, embedder, clock=lambda: DAY)
    card = demo_copy.content_dir / "clients/romashka.md"
    crm.import_crm_file(kb, EXAMPLES / "amocrm.csv", "amocrm")
    # a manager writes below and between kb's sections, with Windows line endings and a BOM
    text = card.read_text(encoding="utf-8").replace("\n## Сделки из CRM\n", "\n### Заметка\nПисать Ершову в Telegram.\n"
                                                                          "\n## Сделки из CRM\n")
    text += "\n## Заметки менеджера\n\nЕршов уходит в отпуск в январе.\n"
    card.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    before = card.read_bytes().decode("utf-8")

    # an XLSX contacts export (no deal columns) under a .csv name: told by content; Latin name, quotes, legal form
    data = xlsx([["Тип", "Наименование", "Компания", "Должность", "Рабочий телефон", "Рабочий email",
                  "Ответственный"],
                 ["контакт", "Константин Ершов", "OOO 'Romashka'", "ИТ-директор", "+7 (921) 640-22-99",
                  "k.ershov@romashka-dom.example", "Дмитрий Соколов"],
                 ["компания", "ООО «Ромашка»", "", "", "+7 (812) 640-11-00", "info@romashka-dom.example",
                  "Дмитрий Соколов"]])
    later = DAY + dt.timedelta(days=7)
    report = crm.import_crm(kb, data, "amocrm", "contacts.csv", today=later)
    assert report.kind == "xlsx" and [(f.action, f.path, f.contacts, f.deals) for f in report.files] == [
        ("updated", "clients/romashka.md", 1, 0)]
    after = card.read_bytes().decode("utf-8")
    assert after.startswith("\ufeff") and "\r\n" in after and "\n" not in after.replace("\r\n", "")
    assert outside(after, crm.CONTACTS_HEADING) == outside(before, crm.CONTACTS_HEADING)
    contacts = "".join(after.splitlines(keepends=True)[slice(*_bounds(after, crm.CONTACTS_HEADING))])
    assert f"kb import-crm: amocrm {later.isoformat()}" in contacts
    assert "| Константин Ершов | ИТ-директор | +7 (921) 640-22-99 | k.ershov@romashka-dom.example |" in contacts
    assert "Котова" not in contacts and "Тихонова" not in contacts  # the section holds this import's contacts
    deals = "".join(after.splitlines(keepends=True)[slice(*_bounds(after, crm.DEALS_HEADING))])
    assert f"kb import-crm: amocrm {DAY.isoformat()}" in deals  # no deals in the file: that section untouched
    assert "Писать Ершову в Telegram." in after and after.rstrip().endswith("Ершов уходит в отпуск в январе.")
    assert report.files[0].diff.count("\n+") == 3  # the mark and one table row, plus the "+++" line


def _bounds(text: str, heading: str) -> tuple[int, int]:
    region = crm.find_section(text.splitlines(keepends=True), heading)
    assert region is not None and region.marked
    return region.start, region.end


def test_bitrix24_dry_run_writes_nothing_then_the_import_writes_what_it_showed(demo_copy: Settings,
                                                                               embedder: Embedder) -> None:
    kb = KnowledgeBase(demo_copy, embedder, clock=lambda: DAY)
    content = demo_copy.content_dir
    files = snapshot(content)
    data = xlsx([
        ["ID", "Имя", "Фамилия", "Должность", "Компания", "Рабочий телефон", "Рабочий e-mail", "Название сделки",
         "Стадия сделки", "Сумма", "Валюта", "Ответственный", "Дата создания"],
        [701, "Ирина", "Белова", "руководитель склада", "Neva Farm JSC", 78123301400, "i.belova@neva-pharm.example",
         "Аналитика 360: расширение", "Счёт выставлен", 1250000.5, "RUB", "Дмитрий Соколов",
         dt.datetime(2026, 11, 18, 15, 5)],
        [702, None, None, None, "ООО «Таёжный лес»", None, None, "Склад Про Standard", "Подготовка КП", 780000,
         "RUB", "Кузнецова Елена", dt.datetime(2026, 11, 5, 11, 20)],
        [703, "Олег", "Пахомов", "директор", "ООО «Горизонт Плюс»", None, None, "Склад Про", "Новая", 100000,
         "RUB", "Кузнецова Елена", dt.datetime(2026, 11, 6)],
        [704, "Пётр", "Ильин", "юрист", None, None, None, None, None, None, None, None, None],
    ], title="Сделки Bitrix24")
    dry = crm.import_crm(kb, data, "bitrix24", "deals.xlsx", dry_run=True)
    assert snapshot(content) == files and not dry.reindexed and dry.dry_run
    assert [(f.action, f.path) for f in dry.files] == [("created", "clients/taezhnyy-les.md"),
                                                       ("updated", "clients/neva-pharm.md"), ("skipped", "")]
    assert (dry.rows, dry.skipped_rows) == (4, 1)  # Ильин names no company
    # «Горизонт Плюс» only shares a word with «Горизонт»: reported, not written into that card
    assert "only partly matches ООО «Горизонт» (gorizont)" in dry.files[2].reason
    neva = dry.files[1].diff
    assert neva.startswith("--- a/clients/neva-pharm.md\n+++ b/clients/neva-pharm.md\n")
    assert "+| Ирина Белова | руководитель склада | 78123301400 | i.belova@neva-pharm.example |\n" in neva
    assert ("+| Аналитика 360: расширение | 1 250 000,50 ₽ | Счёт выставлен | Дмитрий Соколов | 18.11.2026 |\n"
            in neva)
    assert all(not line.startswith("-") or line.startswith("---") for line in neva.splitlines())
    assert "dry run: nothing written" in dry.text() and "+## Сделки из CRM" in dry.text()

    real = crm.import_crm(kb, data, "bitrix24", "deals.xlsx")
    assert [(f.action, f.path, f.diff) for f in real.files] == [(f.action, f.path, f.diff) for f in dry.files]
    new = (content / "clients/taezhnyy-les.md").read_text(encoding="utf-8")
    assert f"owner: {KUZNETSOVA}\n" in new and "## Контакты из CRM" not in new  # no contact rows for it
    assert "| Склад Про Standard | 780 000 ₽ | Подготовка КП | Кузнецова Елена | 05.11.2026 |" in new


def test_the_bitrix24_example_csv(demo_copy: Settings, embedder: Embedder) -> None:
    kb = KnowledgeBase(demo_copy, embedder, clock=lambda: DAY)
    report = crm.import_crm_file(kb, EXAMPLES / "bitrix24.csv", "bitrix24", owner="Светлана Ким")
    assert [(f.action, f.path, f.contacts, f.deals) for f in report.files] == [
        ("created", "clients/taezhnyy-les.md", 2, 1), ("updated", "clients/neva-pharm.md", 1, 1)]
    new = (demo_copy.content_dir / "clients/taezhnyy-les.md").read_text(encoding="utf-8")
    assert f"owner: {KUZNETSOVA}\n" in new  # the rows' «Ответственный» comes before the default owner
    assert "| Ольга Петровна Смирнова | главный бухгалтер | +7 (3952) 40-11-20 | o.smirnova@taiga-les.example |" in new
    assert "| Павел Орешкин | директор по закупкам, ЛПР |" in new


def test_files_that_are_not_crm_exports_are_refused_and_nothing_is_written(tmp_path: Path,
                                                                           embedder: Embedder) -> None:
    (tmp_path / "content" / "clients").mkdir(parents=True)
    settings = replace(make_settings(tmp_path, tmp_path / "content"), max_file_mb=0.01)
    kb = KnowledgeBase(settings, embedder, clock=lambda: DAY)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("notes/readme.txt", "не таблица")
    header = "Компания;Полное имя;Рабочий email\n"
    cases = {
        "picture.csv": (png, "neither CSV text nor an XLSX workbook"),
        "note.csv": ("Просто заметка о встрече.\nБез колонок.\n".encode(), "not a table"),
        "other.csv": ("Город,Население\nПермь,1000000\n".encode(), "no columns kb knows from a amoCRM export"),
        "archive.xlsx": (archive.getvalue(), "zip archive, not an Excel workbook"),
        "old.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old Excel .xls"),
        "bitrix.xls": ("<html><body><table><tr><td>Компания</td></tr></table></body></html>".encode(), "HTML"),
        "empty.csv": (b"", "empty"),
        "big.csv": ((header + "ООО «Альфа»;Анна Котова;a@b.example\n" * 400).encode(), "over the 10 KB limit"),
        "broken.xlsx": (b"PK\x03\x04" + b"\x00" * 100, "cannot be opened"),
    }
    for name, (data, reason) in cases.items():
        with pytest.raises(BadInput, match=reason):
            crm.import_crm(kb, data, "amocrm", name)
    big = tmp_path / "big.csv"
    big.write_bytes(cases["big.csv"][0])
    with pytest.raises(BadInput, match="over the 10 KB limit"):
        crm.import_crm_file(kb, big, "amocrm")
    with pytest.raises(BadInput, match="unknown CRM format"):
        crm.import_crm(kb, header.encode(), "salesforce", "x.csv")
    assert snapshot(tmp_path / "content") == {}


def test_sections_kb_does_not_own_are_left_alone() -> None:
    text = "---\ntitle: T\n---\n\n# T\n\n## Контакты из CRM\n\nЗаписано вручную.\n"
    with pytest.raises(BadInput, match="written by hand"):
        crm.set_section(text, crm.CONTACTS_HEADING, crm.table(crm.CONTACT_COLUMNS, [("А", "", "", "")]), "[//]: # (x)")
    fenced = "# T\n\n```\n## Контакты из CRM\n```\n"
    assert crm.find_section(fenced.splitlines(keepends=True), crm.CONTACTS_HEADING) is None
    cell = crm.table(crm.CONTACT_COLUMNS, [("Анна | Котова", "a\\b", "", "")])[-1]
    assert cell == "| Анна \\| Котова | a\\\\b |  |  |"
    assert crm.money("1 560 000", rouble=True) == "1 560 000 ₽" and crm.money("1,234.50", "USD") == "1 234,50 $"
    assert crm.money("договорная") == "договорная"


def test_the_import_route_is_for_editors_and_audited(demo_copy: Settings, embedder: Embedder) -> None:
    users = Users(demo_copy.data_dir)
    reader = {"Authorization": "Bearer " + users.add("rita", "reader", ["sales"])}
    editor = {"Authorization": "Bearer " + users.add("eva", "editor", ["sales"])}
    body = (EXAMPLES / "amocrm.csv").read_bytes()
    octet = {"Content-Type": "application/octet-stream"}
    files = snapshot(demo_copy.content_dir)
    with TestClient(create_app(demo_copy, embedder, clock=lambda: DAY)) as client:
        url = "/api/import-crm?format=amocrm&name=export.csv"
        assert client.post(url, content=body, headers={**reader, **octet}).status_code == 403
        assert client.post(url, content=body, headers=octet).status_code == 401
        dry = client.post(url + "&dry_run=true", content=body, headers={**editor, **octet})
        assert dry.status_code == 200, dry.text
        assert dry.json()["dry_run"] and dry.json()["counts"]["created"] == 1 and not dry.json()["reindexed"]
        assert snapshot(demo_copy.content_dir) == files
        bad = client.post(url, content=b"\x89PNG\r\n\x1a\n\x00\x00", headers={**editor, **octet})
        assert bad.status_code == 400 and "neither CSV" in bad.json()["error"]["message"]
        assert client.post("/api/import-crm?format=sap", content=body, headers={**editor, **octet}).status_code == 422

        done = client.post(url, content=body, headers={**editor, **octet}).json()
        assert done["changed"] == ["clients/polyarnaya-zvezda.md", "clients/romashka.md"] and done["reindexed"]
        assert [f["action"] for f in done["files"]] == ["created", "updated"]
        asked = client.post("/api/ask", json={"question": "Кто финансовый директор в «Полярной звезде»?"},
                            headers=editor).json()
        assert asked["answered"] and asked["sources"][0]["path"] == "clients/polyarnaya-zvezda.md"
        assert "Котова" in asked["answer"]
    entries = [e for e in users.audit_log() if e.action == "import-crm"]
    assert [(e.user, e.detail, e.documents) for e in entries] == [
        ("eva", "export.csv", ["clients/polyarnaya-zvezda.md", "clients/romashka.md"]),
        ("eva", "export.csv (dry run)", [])]


def test_exports_in_other_encodings_and_workbooks_of_several_sheets_read_alike() -> None:
    text = (EXAMPLES / "bitrix24.csv").read_text(encoding="utf-8")
    expected = crm.companies(crm.read_table(text.encode("utf-8"), "b.csv", 1 << 20)[1], "b.csv", "bitrix24")
    tabbed = io.StringIO()
    csv.writer(tabbed, delimiter="\t").writerows(csv.reader(io.StringIO(text)))
    # older Bitrix24 CSV exports are Windows-1251; Excel's "Unicode text" is UTF-16, tab-separated
    for encoding, data in (("cp1251", text.encode("cp1251")), ("utf-16", tabbed.getvalue().encode("utf-16"))):
        kind, sheets = crm.read_table(data, "b.csv", 1 << 20)
        got = crm.companies(sheets, "b.csv", "bitrix24")
        assert kind == "csv" and [(c.name, c.sorted_contacts(), c.sorted_deals()) for c in got.companies] == [
            (c.name, c.sorted_contacts(), c.sorted_deals()) for c in expected.companies], encoding
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Отчёт"
    first.append(["Выгрузка из amoCRM за ноябрь"])  # a title line above the header
    first.append([])
    first.append(["Название компании", "Ответственный"])
    first.append(["ООО «Полярная звезда»", "Дмитрий Соколов"])
    contacts = book.create_sheet("Контакты")
    contacts.append(["Полное имя", "Компания", "Рабочий email"])
    contacts.append(["Анна Котова", "Полярная звезда", "a.kotova@polar-star.example"])
    book.create_sheet("Заметки").append(["просто текст"])
    out = io.BytesIO()
    book.save(out)
    kind, sheets = crm.read_table(out.getvalue(), "book.bin", 1 << 20)
    got = crm.companies(sheets, "book.bin", "amocrm")
    assert kind == "xlsx" and [(c.name, c.rows, dict(c.responsible)) for c in got.companies] == [
        ("ООО «Полярная звезда»", 1, {"Дмитрий Соколов": 1}), ("Полярная звезда", 1, {})]
    assert got.companies[1].sorted_contacts() == [crm.Contact("Анна Котова", "", "", "a.kotova@polar-star.example")]


@pytest.mark.parametrize("value", ["Infinity", "NaN", "9" * 40, "-"])
def test_amounts_that_are_no_number_are_kept_as_written(value: str) -> None:
    assert crm.money(value) == value.strip()
