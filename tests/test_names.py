"""Which client a question names: titles, quoted and bracketed names, ids, aliases, initials, declensions,
transliteration and typos; equal matches told apart by place, or reported."""

from __future__ import annotations

from typing import Any

import pytest

from kb.names import Names
from kb.store import DocumentRow


def card(client: str, title: str, **meta: Any) -> DocumentRow:
    return DocumentRow(0, f"clients/{client}.md", "", title, "client", client, "", "", "", {"title": title, **meta})


NAMES = Names.from_documents(
    [
        card("severstroy", "ООО «СеверСтрой»", tags=["Москва"]),
        card("severstroymontazh", "АО «СеверСтройМонтаж»", tags=["Санкт-Петербург"]),
        card("logistpark-vostok", "ООО «ЛогистПарк Восток»", tags=["Московская область"]),
        card("logistpark-yug", "ООО «ЛогистПарк Юг»", tags=["Ростов-на-Дону"]),
        card("zorka", "АО «Молочный комбинат «Зорька»»"),
        card("sapfir", "АО «Сапфир Отель Менеджмент» (Sapphire Inn)"),
        card("uralpolimer", "ООО «УралПолимер»"),
        card("volga", "АО «Волга Отели» (Volga Park Hotel)"),
        card("volna", "ООО «Волна Хоспиталити» (Volna Hotels)"),
        card("almaty", "ТОО «Алматы Логистик Парк»"),
        card("steppe", "Steppe Distribution LLP (Kazakhstan)", tags=["kazakhstan"]),
        card("vektor", "АО «Вектор Логистик»", aliases=["Vector Logistics"]),
    ],
    {"severstroymontazh": "Внутри компании их называют «ССМ»."},
)


@pytest.mark.parametrize(("question", "client"), [
    ("Сколько дней отсрочки у СеверСтроя?", "severstroy"),  # declined
    ("Who signs contracts on the Severstroy side?", "severstroy"),  # Latin
    ("Which service plan does SeverStroyMontazh have?", "severstroymontazh"),
    ("ССМ питерские на какой отсрочке?", "severstroymontazh"),  # initials its own card uses
    ("What is Zorka's credit limit?", "zorka"),  # the inner quoted name, soft sign dropped in Latin
    ("Почта закупщицы Зорьки?", "zorka"),
    ("Who signs documents for Sapphire Inn?", "sapfir"),  # the name in brackets
    ("Уралполмер — кто подпишет спеку?", "uralpolimer"),  # a typo in a long name
    ("Какая отсрочка платежа у Волга Отели?", "volga"),
    ("Какой сервисный тариф у Volna Hotels?", "volna"),  # look-alike names
    ("до какого числа алматинцам подписать спеку?", "almaty"),  # a word made from the name
    ("Кто подписывает со стороны ростовского ЛогистПарка?", "logistpark-yug"),  # a tie settled by place
    ("Кто главбух в ЛогистПарк Восток?", "logistpark-vostok"),
    ("who signs acts at Vector Logistics?", "vektor"),  # an alias
    ("Сколько едет груз в Казахстан?", ""),  # a place in brackets is no name
    ("What happens on a new hire's first day?", ""),
    ("Какая гарантия у тепловых насосов?", ""),
])
def test_the_client_a_question_names(question: str, client: str) -> None:
    assert NAMES.match(question).client == client


def test_two_clients_named_equally_are_both_reported() -> None:
    m = NAMES.match("Какие условия у ЛогистПарка?")
    assert m.client == "" and m.candidates == ("logistpark-vostok", "logistpark-yug")


def test_the_name_is_masked_for_comparing_questions() -> None:
    assert NAMES.mask("Какая отсрочка у СеверСтроя?") == "Какая отсрочка у ?"
