"""Knowledge gaps: grouping by meaning (the threshold is measured here), owners, and where answers go."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kb.datastore import GapRow
from kb.embedding import Embedder
from kb.gaps import SIMILAR_FROM, Gap, answer_file, answer_section, clean_answer, cluster, group
from kb.ingest import decode
from kb.markdown import parse
from kb.names import Names
from kb.store import DocumentRow

from .conftest import ROOT


def demo_documents() -> list[DocumentRow]:
    """The demo content's metadata as the index stores it, without building an index."""
    rows = []
    for i, path in enumerate(sorted((ROOT / "content").rglob("*.md"))):
        rel = path.relative_to(ROOT / "content").as_posix()
        doc = parse(decode(path.read_bytes()), rel)
        m = doc.meta
        rows.append(DocumentRow(id=i, path=rel, hash="", title=doc.title, type=m.type, client=m.client, owner=m.owner,
                                verified=m.verified, review_every=m.review_every,
                                meta={"products": list(m.products)}))
    return rows


# Questions that ask the same thing share a label. Pairs across labels reach 0.85 once names are masked
# (e.g. "сколько дней отсрочки" vs "когда заканчивается договор"); same-label pairs start at 0.86.
PARAPHRASES = [
    ("fleet", "Есть ли у Ромашки собственный автопарк?"),
    ("fleet", "У Ромашки свои грузовики есть?"),
    ("fleet", "Ромашка имеет собственный транспорт для доставки?"),
    ("delay", "Какая отсрочка платежа у Ромашки?"),
    ("delay", "На каких условиях оплаты работает Ромашка?"),
    ("end", "Когда у Ромашки заканчивается договор?"),
    ("end", "До какого числа действует договор с Ромашкой?"),
    ("discount", "Какую максимальную скидку можно дать Ромашке?"),
    ("signs", "Кто подписывает акты у Ромашки?"),
    ("offline", "Есть ли у CRM Норд мобильное приложение с офлайн-режимом?"),
    ("offline", "Работает ли CRM Норд офлайн на телефоне?"),
    ("offline", "Можно ли пользоваться CRM Норд без интернета с телефона?"),
    ("1c", "Есть ли у CRM Норд интеграция с 1С?"),
    ("1c", "Интегрируется ли CRM Норд с 1С:Бухгалтерией?"),
    ("price", "Сколько стоит CRM Норд Бизнес на 20 пользователей?"),
    ("price", "Какая цена CRM Норд Бизнес за 20 лицензий?"),
    ("linux", "Можно ли установить Склад Про на Linux?"),
    ("linux", "Работает ли сервер Склад Про под Астра Линукс?"),
    ("linux-crm", "Можно ли установить CRM Норд на Linux?"),
    ("yuan", "Можно ли оплатить лицензии в юанях?"),
    ("yuan", "Принимаем ли мы оплату в китайских юанях?"),
    ("btc", "Какой курс биткоина будет в следующем году?"),
    ("btc", "Сколько будет стоить биткоин в 2027?"),
    ("partners", "Кто в компании отвечает за партнёрскую программу?"),
    ("partners", "К кому идти по вопросам партнёров?"),
]


def test_paraphrases_form_one_gap_and_different_questions_do_not(embedder: Embedder) -> None:
    docs = demo_documents()
    names = Names.from_documents(docs)
    rows = []
    for i, (_, question) in enumerate(PARAPHRASES, start=1):
        clients = names.clients_in(question)
        rows.append(GapRow(id=i, question=question, client=next(iter(clients)) if len(clients) == 1 else "",
                           reason="refused", owner="", nearest=(), created=float(i)))
    vecs = embedder.queries([names.mask(r.question) for r in rows])
    gaps = group(rows, {r.id: v for r, v in zip(rows, vecs)}, {r.id: names.products_in(r.question) for r in rows},
                 {d.path: d for d in docs})
    found = sorted(sorted(PARAPHRASES[i - 1][0] for i in g.row_ids) for g in gaps)
    expected = sorted([label] * sum(1 for x, _ in PARAPHRASES if x == label) for label in {x for x, _ in PARAPHRASES})
    assert found == expected
    fleet = next(g for g in gaps if "автопарк" in " ".join(g.examples))
    assert (fleet.client, fleet.count, fleet.id) == ("romashka", 3, 1)


def test_names_are_found_and_masked() -> None:
    names = Names.from_documents(demo_documents())
    assert names.clients_in("Кто подписывает акты у Ромашки?") == {"romashka"}
    assert names.clients_in("Who signs acts at Romashka?") == {"romashka"}
    assert names.clients_in("Какая отсрочка у «СеверТранса»?") == {"severtrans"}
    assert names.products_in("Работает ли CRM Норд офлайн?") == {"crm-nord"}
    assert names.mask("Работает ли CRM Норд офлайн у Ромашки?") == "Работает ли офлайн у ?"
    assert names.mask("Какой курс биткоина?") == "Какой курс биткоина?"


def test_clustering_keeps_the_first_member_and_respects_names() -> None:
    import numpy as np

    vecs = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0], [0.99, 0.14]], dtype=np.float32)
    sigs = [frozenset(), frozenset(), frozenset(), frozenset({"crm-nord"})]
    assert cluster(vecs, sigs, SIMILAR_FROM) == [[0, 1], [2], [3]]


def _gap(**kw: object) -> Gap:
    base: dict[str, object] = {"id": 1, "question": "?", "examples": (), "count": 1, "client": "", "topic": "",
                               "topic_path": "", "owner": "", "reason": "refused"}
    return Gap(**{**base, **kw})  # type: ignore[arg-type]


def test_answers_go_to_the_client_faq_or_the_topic_faq() -> None:
    docs = demo_documents()
    assert answer_file(_gap(client="romashka"), docs, "romashka") == "clients/romashka-faq.md"
    assert answer_file(_gap(topic_path="products/crm-nord.md"), docs, "") == "faq/crm-nord-faq.md"
    assert answer_file(_gap(topic_path="faq/sales-faq.md"), docs, "") == "faq/sales-faq.md"
    assert answer_file(_gap(), docs, "") == "faq/general-faq.md"


@pytest.mark.parametrize(("raw", "clean"), [
    ("Да,\nдоставкой управляет РЦ.", "Да, доставкой управляет РЦ."),
    ("# Не заголовок\nтекст", "\\# Не заголовок\nтекст"),
    ("текст\n---\nещё", "текст\n\\---\nещё"),
    ("Список:\n\n- один\n- два\n", "Список:\n\n- один\n- два"),
    ("a\x00b\r\nc", "ab c"),
])
def test_answers_cannot_break_the_document(raw: str, clean: str) -> None:
    assert clean_answer(raw) == clean


def test_answer_section_is_signed_and_dated(tmp_path: Path) -> None:
    text = answer_section("Есть ли автопарк?", "Да.", "Дмитрий Соколов", dt.date(2026, 11, 27))
    assert text == "## Есть ли автопарк?\n\nДа.\n\n[//]: # (Ответ: Дмитрий Соколов, 2026-11-27)\n"
    doc = parse("---\ntitle: FAQ\ntype: faq\n---\n# FAQ\n\n" + text, "f.md")
    assert [(s.heading_path, s.blocks[0].text) for s in doc.sections] == [(("FAQ", "Есть ли автопарк?"), "Да.")]
    assert len(doc.sections[0].blocks) == 1
