"""Importing the documents a team already has: real DOCX, PDF, HTML and e-mail files made here, each imported
and then found by a question with its source; broken, disguised, encrypted and oversized files refused."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from fpdf import FPDF
from pypdf import PdfWriter

from api.app import create_app
from kb.cli import main
from kb.embedding import Embedder
from kb.importing import ImportRefused, convert, sniff
from kb.settings import Settings

from .conftest import TODAY

OWNER = "Анна Петрова (a.petrova@seversoft.example)"


def word_file() -> bytes:
    """A Word document with a heading, a list and a table, as Word writes it."""
    d = docx.Document()
    d.add_heading("Логистика поставок ТСД для Ромашки", 1)
    d.add_paragraph("Порядок поставки терминалов сбора данных по договору Д-2024/117.")
    d.add_heading("Сроки отгрузки", 2)
    d.add_paragraph("Заявку на ТСД клиент присылает на склад в Шушарах.", style="List Bullet")
    table = d.add_table(rows=3, cols=2)
    for i, (a, b) in enumerate([("Позиция", "Срок отгрузки"), ("ТСД Urovo DT50", "12 рабочих дней"),
                                ("Зарядная станция на 10 ТСД", "20 рабочих дней")]):
        table.cell(i, 0).text, table.cell(i, 1).text = a, b
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def pdf_file(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


EML = (
    "From: Marina Tikhonova <m.tikhonova@romashka-dom.example>\n"
    "To: Dmitry Sokolov <d.sokolov@seversoft.example>\n"
    "Subject: Re: Инвентаризация на РЦ Шушары\n"
    "Date: Mon, 16 Nov 2026 10:12:00 +0300\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Дмитрий, добрый день!\n"
    "Годовую инвентаризацию на РЦ Шушары проводим 14 декабря, отгрузки в этот день остановлены.\n"
    "\n"
    "> Марина, когда у вас инвентаризация?\n"
).encode()


def test_a_word_document_keeps_headings_lists_and_tables() -> None:
    found = convert(word_file(), "логистика.docx", client="romashka", owner=OWNER, today=TODAY, max_bytes=1 << 20)
    assert found.path == "clients/romashka-logistika-postavok-tsd-dlya-romashki.md"
    md = found.markdown
    assert md.startswith("---\ntitle: Логистика поставок ТСД для Ромашки\ntype: faq\nclient: romashka\n")
    assert "source: логистика.docx\nimported: 2026-11-27\n" in md
    assert "\n# Логистика поставок ТСД для Ромашки\n" in md and "\n## Сроки отгрузки\n" in md
    assert "- Заявку на ТСД клиент присылает" in md
    assert "| Позиция | Срок отгрузки |\n| --- | --- |\n| ТСД Urovo DT50 | 12 рабочих дней |" in md


@pytest.mark.parametrize(("data", "name", "reason"), [
    (b"just some words", "contract.docx", "named .docx but its content is plain text"),
    (b"PK\x03\x04broken zip", "contract.docx", "damaged ZIP"),
    (b"", "empty.txt", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.txt", "binary file"),
])
def test_broken_and_disguised_files_are_refused(data: bytes, name: str, reason: str) -> None:
    with pytest.raises(ImportRefused, match=reason):
        sniff(data, name)


def test_an_archive_an_encrypted_pdf_a_scan_and_an_oversized_file_are_refused() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("contract.docx", word_file())
    with pytest.raises(ImportRefused, match="archives are not unpacked"):
        sniff(archive.getvalue(), "contracts.zip")
    locked = PdfWriter()
    locked.add_blank_page(200, 200)
    locked.encrypt("secret")
    out = io.BytesIO()
    locked.write(out)
    with pytest.raises(ImportRefused, match="encrypted"):
        convert(out.getvalue(), "locked.pdf", owner=OWNER, today=TODAY, max_bytes=1 << 20)
    blank = PdfWriter()
    blank.add_blank_page(200, 200)
    scan = io.BytesIO()
    blank.write(scan)
    with pytest.raises(ImportRefused, match="no text"):
        convert(scan.getvalue(), "scan.pdf", owner=OWNER, today=TODAY, max_bytes=1 << 20)
    with pytest.raises(ImportRefused, match="over the limit"):
        convert(b"x" * 2048, "big.txt", owner=OWNER, today=TODAY, max_bytes=1024)


@pytest.fixture()
def writable(demo_copy: Settings, embedder: Embedder) -> Iterator[TestClient]:
    with TestClient(create_app(demo_copy, embedder, clock=lambda: TODAY)) as c:
        yield c


def test_uploads_become_documents_that_answer(writable: TestClient, demo_copy: Settings) -> None:
    up = writable.post("/api/import", params={"name": "логистика.docx", "client": "romashka", "owner": OWNER},
                       content=word_file(), headers={"Content-Type": "application/octet-stream"}).json()
    assert up["path"].startswith("clients/romashka-") and up["format"] == "docx"
    assert (demo_copy.content_dir / up["path"]).read_text(encoding="utf-8") == up["markdown"]
    asked = writable.post("/api/ask", json={"question": "За сколько дней отгружаем зарядную станцию для ТСД Ромашке?"}
                          ).json()
    assert asked["answered"] and asked["sources"][0]["path"] == up["path"] and "20 рабочих дней" in asked["answer"]

    mail = writable.post("/api/import", params={"name": "thread.eml", "client": "romashka", "owner": OWNER},
                         content=EML).json()
    assert mail["format"] == "eml" and mail["title"] == "Re: Инвентаризация на РЦ Шушары"
    asked = writable.post("/api/ask", json={"question": "Когда у Ромашки инвентаризация на РЦ Шушары?"}).json()
    assert asked["sources"][0]["path"] == mail["path"] and "14 декабря" in (asked["answer"] or "")

    refused = writable.post("/api/import", params={"name": "contract.docx", "owner": OWNER}, content=b"plain words")
    assert refused.status_code == 400 and "plain text" in refused.json()["error"]["message"]
    assert writable.post("/api/import", params={"name": "../../etc/x.txt", "owner": OWNER},
                         content=b"hello there").json()["path"] == "imported/x.md"  # the name never leaves content/


def test_import_on_the_command_line_then_ask(demo_copy: Settings, embedder: Embedder, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in (("KB_CONTENT_DIR", demo_copy.content_dir), ("KB_INDEX_DIR", demo_copy.index_dir),
                       ("KB_DATA_DIR", demo_copy.data_dir)):
        monkeypatch.setenv(key, str(value))
    pdf = tmp_path / "express.pdf"
    pdf.write_bytes(pdf_file("Express delivery of handheld terminals\n\nExpress delivery of handheld terminals "
                             "within Saint Petersburg costs 4,700 RUB per shipment and takes one working day."))
    html = tmp_path / "page.html"
    html.write_text("<html><head><title>Пропуск на склад</title></head><body><h1>Пропуск на склад</h1>"
                    "<ul><li>Пропуск на склад в Шушарах заказывают за 2 рабочих дня.</li></ul></body></html>",
                    encoding="utf-8")
    fake = tmp_path / "fake.docx"
    fake.write_text("not a word file", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(pdf), str(html), str(fake), "--owner", OWNER, "--json"])
    assert result.exit_code == 1  # one file refused; the others imported
    data = json.loads(result.stdout)
    assert [d["format"] for d in data["imported"]] == ["pdf", "html"]
    assert data["refused"][0]["path"].endswith("fake.docx")
    result = runner.invoke(main, ["ask", "How much is express delivery of handheld terminals?", "--json"])
    answer = json.loads(result.stdout)
    assert answer["sources"][0]["path"] == data["imported"][0]["path"] and "4,700" in answer["answer"]
    dry = runner.invoke(main, ["import", str(html), "--owner", OWNER, "--dry-run", "--json"])
    assert json.loads(dry.stdout)["imported"][0]["path"] == "imported/propusk-na-sklad-2.md"  # nothing written
    assert not (demo_copy.content_dir / "imported" / "propusk-na-sklad-2.md").exists()
    assert dt.date.today()  # the CLI takes the real date: imported documents are dated the day they come in
