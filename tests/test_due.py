"""Dates read from client documents, what is due against today, and the handover of an owner's clients."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from kb.cli import main
from kb.dates import CONTRACT_END, EVENT, EXPIRY, NOTICE, OPEN_QUESTION, PROMISE, dated, dates_in
from kb.embedding import Embedder
from kb.errors import BadInput
from kb.ingest import ingest
from kb.markdown import parse
from kb.settings import Settings
from kb.users import Users

from .conftest import make_settings

TODAY = dt.date(2026, 12, 2)
BASE = dt.date(2026, 9, 1)

CARD = """---
title: ООО «Альбатрос»
type: client
client: albatros
owner: Мария Орлова (m.orlova@example.test)
verified: 2026-09-01
review_every: 180d
---
# ООО «Альбатрос»

Клиент с марта 2024 года, второй склад запускают осенью 2027 года.

## Кто подписывает документы
Договоры подписывает директор Пётр Иванов по доверенности, действующей до 31 декабря 2026 года.

## Договор
Договор Д-2024/010 от 12.03.2024, срок до 2027-03-11. Уведомить о расторжении за 60 дней до окончания срока.

## Условия оплаты
Отсрочка 30 календарных дней.

## Что обещали
- Обучение кладовщиков — до 15 ноября.
- Отчёт по остаткам — до 20.11.2026.
- Доработка печати этикеток — в январе 2027.

## Открытые вопросы
- Клиент ждёт КП на второй склад до 10.12.2026.

## История
- 21.11.2026 — отчёт по остаткам отправлен клиенту.
"""

ENGLISH = """---
title: Harbour Trading LLP
type: client
client: harbour
owner: Мария Орлова (m.orlova@example.test)
verified: 2026-09-01
---
# Harbour Trading LLP

## Contacts
| Name | Role |
|---|---|
| John Smith | CEO |

## What we promised
- A demo of the new reports by November 15, 2026.
"""

QUIET = """---
title: ООО «Тишина»
type: client
client: tishina
owner: Игорь Лесной (i.lesnoy@example.test)
verified: 2026-11-01
---
# ООО «Тишина»

Небольшой клиент, работаем по предоплате.

## Условия оплаты
Предоплата 100 %.
"""


@pytest.mark.parametrize(("text", "expected"), [
    ("Договор до 11.03.2027.", [dt.date(2027, 3, 11)]),
    ("Срок до 2026-11-15.", [dt.date(2026, 11, 15)]),
    ("Действует до 31 декабря 2026 года.", [dt.date(2026, 12, 31)]),
    ("Обучение до 15 ноября.", [dt.date(2026, 11, 15)]),  # the year of the base date
    ("A demo by November 15, 2026.", [dt.date(2026, 11, 15)]),
    ("A demo by 15 November 2026.", [dt.date(2026, 11, 15)]),
    ("Запуск осенью 2026 года.", [dt.date(2026, 11, 30)]),  # a season as its last day
    ("Доработка в январе 2027.", [dt.date(2027, 1, 31)]),  # a month as its last day
    ("Лицензий 40, цена 3 120 000 ₽.", []),
])
def test_dates_in_every_form(text: str, expected: list[dt.date]) -> None:
    assert [d for _, _, d in dates_in(text, BASE)] == expected


def test_what_each_date_is() -> None:
    items = dated(parse(CARD, "clients/albatros.md"), BASE)
    kinds = {(i.date, i.kind) for i in items}
    assert (dt.date(2026, 12, 31), EXPIRY) in kinds
    assert (dt.date(2024, 3, 12), EVENT) in kinds and (dt.date(2027, 3, 11), CONTRACT_END) in kinds
    assert (dt.date(2027, 1, 10), NOTICE) in kinds  # "за 60 дней до окончания срока", from the contract's end
    assert (dt.date(2026, 11, 15), PROMISE) in kinds and (dt.date(2026, 12, 10), OPEN_QUESTION) in kinds
    notice = next(i for i in items if i.kind == NOTICE)
    assert notice.start_line == 17 and notice.heading_path == ("ООО «Альбатрос»", "Договор")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    tmp = tmp_path_factory.mktemp("due")
    (tmp / "content" / "clients").mkdir(parents=True)
    for name, text in (("albatros", CARD), ("harbour", ENGLISH), ("tishina", QUIET)):
        (tmp / "content" / "clients" / f"{name}.md").write_text(text, encoding="utf-8")
    s = make_settings(tmp, tmp / "content")
    ingest(s.content_dir, s.index_dir, embedder, max_file_bytes=s.max_file_bytes, chunk_tokens=s.chunk_tokens)
    return s


@pytest.fixture()
def client(settings: Settings, embedder: Embedder) -> Iterator[TestClient]:
    with TestClient(create_app(settings, embedder, clock=lambda: TODAY)) as c:
        yield c


def test_due_sorts_overdue_due_later_and_leaves_done_out(client: TestClient) -> None:
    data = client.get("/api/due", params={"within": 30}).json()
    assert data["today"] == "2026-12-02" and [o["owner"] for o in data["owners"]] == ["Мария Орлова"]
    albatros = next(c for c in data["owners"][0]["clients"] if c["client"] == "albatros")
    got = [(i["status"], i["date"], i["kind"]) for i in albatros["items"]]
    assert got[:2] == [("overdue", "2026-11-15", "promise"), ("due", "2026-12-10", "open question")]
    assert ("due", "2026-12-31", "document expiry") in got
    assert ("later", "2027-01-10", "notice deadline") in got and ("later", "2027-03-11", "contract end") in got
    assert not [g for g in got if g[1] == "2026-11-20"]  # the report was sent: a later line says so
    assert not [g for g in got if g[2] == "event" and g[0] == "overdue"]  # past events are history, not tasks
    overdue = albatros["items"][0]
    assert overdue["days"] == -17 and overdue["source"]["path"] == "clients/albatros.md"
    assert overdue["source"]["start_line"] == overdue["source"]["end_line"] == 23
    harbour = next(c for c in data["owners"][0]["clients"] if c["client"] == "harbour")
    assert [(i["status"], i["date"]) for i in harbour["items"]] == [("overdue", "2026-11-15")]
    # a card with no dates has nothing due; filters by owner and client
    assert not client.get("/api/due", params={"owner": "Лесной"}).json()["owners"]
    only = client.get("/api/due", params={"client": "harbour", "today": "2026-11-01"}).json()
    assert [c["client"] for o in only["owners"] for c in o["clients"]] == ["harbour"]
    assert only["owners"][0]["clients"][0]["items"][0]["status"] == "due"


def test_due_on_the_command_line(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in (("KB_CONTENT_DIR", settings.content_dir), ("KB_INDEX_DIR", settings.index_dir),
                       ("KB_DATA_DIR", settings.data_dir)):
        monkeypatch.setenv(key, str(value))
    result = CliRunner().invoke(main, ["due", "--today", "2026-12-02", "--within", "10", "--owner", "орлова",
                                       "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    items = [i for o in json.loads(result.stdout)["owners"] for c in o["clients"] for i in c["items"]]
    assert {i["status"] for i in items} == {"overdue", "due", "later"}
    assert next(i for i in items if i["date"] == "2026-12-31")["status"] == "later"  # 29 days > 10


def test_handover_lists_what_is_missing_and_the_checklist_shrinks(settings: Settings, embedder: Embedder,
                                                                  tmp_path: Path) -> None:
    with TestClient(create_app(settings, embedder, clock=lambda: TODAY)) as c:
        h = c.get("/api/handover/Мария Орлова").json()
        assert h["owner"] == "Мария Орлова"
        by = {x["client"]: x for x in h["clients"]}
        assert by["albatros"]["signers"][0]["text"].startswith("Договоры подписывает директор Пётр Иванов")
        assert not by["albatros"]["missing"]
        assert {m["key"] for m in by["harbour"]["missing"]} == {"signers", "contract", "payment"}
        assert by["harbour"]["due"][0]["status"] == "overdue"
        checklist = h["checklist"]
        item = next(i for i in checklist if i["id"] == "missing:harbour:payment")
        assert item["action"] == {"type": "section", "path": "clients/harbour.md", "heading": "Условия оплаты"}
        added = c.post(f"/api/documents/{item['action']['path']}/sections",
                       json={"heading": item["action"]["heading"], "text": "Prepayment 100 %."}).json()
        assert added["heading"] == "Условия оплаты" and added["start_line"] > 15
        after = c.get("/api/handover/Орлова").json()["checklist"]
        assert len(after) == len(checklist) - 1 and item["id"] not in {i["id"] for i in after}
        again = c.post("/api/documents/clients/harbour.md/sections", json={"heading": "Условия оплаты", "text": "x"})
        assert again.status_code == 400
        assert c.get("/api/handover/Никто").status_code == 404


def test_reassign_changes_only_the_owner_line_and_is_audited(settings: Settings, embedder: Embedder) -> None:
    path = settings.content_dir / "clients" / "tishina.md"
    before = path.read_text(encoding="utf-8")
    with TestClient(create_app(settings, embedder, clock=lambda: TODAY)) as c:
        out = c.post("/api/handover/Игорь Лесной/reassign", json={"to": "Мария Орлова (m.orlova@example.test)"})
        assert out.json()["changed"] == ["clients/tishina.md"]
        assert [x["client"] for x in c.get("/api/handover/Орлова").json()["clients"]].count("tishina") == 1
    after = path.read_text(encoding="utf-8")
    assert after == before.replace("Игорь Лесной (i.lesnoy@example.test)", "Мария Орлова (m.orlova@example.test)")
    entry = Users(settings.data_dir).audit_log(5)[0]
    assert entry.action == "reassign" and entry.documents == ["clients/tishina.md"]


def test_kb_today_fixes_the_day_for_the_service(settings: Settings, embedder: Embedder) -> None:
    fixed = Settings.from_env({"KB_TODAY": "2026-11-01"}, content_dir=settings.content_dir,
                              index_dir=settings.index_dir, data_dir=settings.data_dir)
    with TestClient(create_app(fixed, embedder)) as c:
        assert c.get("/api/due").json()["today"] == "2026-11-01"
    with pytest.raises(BadInput):
        Settings.from_env({"KB_TODAY": "tomorrow"}).clock()
