"""What a question asks for, and whether a span holds it: kinds of value, codes, and amounts against ranges."""

from __future__ import annotations

import pytest

from kb.asked import (
    DATE,
    DAY,
    EMAIL,
    END,
    ID,
    NUMBER,
    PERSON,
    PHONE,
    TIME,
    WEIGHT,
    asked,
    asked_all,
    fits,
    holds,
    names_codes,
    polar,
    quantities,
    value_terms,
)
from kb.glossary import Glossary
from kb.text import is_noun, stem


@pytest.mark.parametrize(("question", "kind"), [
    ("Когда у Ромашки заканчивается договор?", END),  # when, more exactly: the day it ends
    ("До какого числа действует доверенность?", END),
    ("When does the contract expire?", END),
    ("When does the contract with Baltfood end?", END),
    ("When did the war end?", DATE),  # a day in the past, not the end of something running
    ("Какого числа следующий звонок?", DAY),
    ("Когда следующий звонок?", DATE),
    ("Во сколько лучше звонить?", TIME),  # a time of day
    ("До скольки работает склад в субботу?", TIME),
    ("What time does the office open?", TIME),
    ("Сколько весит сервер?", WEIGHT),  # a weight, not any number: listed before "сколько"
    ("В какой срок надо ответить на рекламацию?", DATE),
    ("Сколько дней отсрочки у Вектора?", NUMBER),
    ("How much is the Business edition per user?", NUMBER),
    ("What was Teplodom's turnover in 2025?", NUMBER),  # a quantity named by what it measures
    ("Какой бюджет у Ромашки на ИТ?", NUMBER),
    ("Кто подписывает акты?", PERSON),
    ("Кто подменяет Сафину, когда она в отпуске?", PERSON),  # the first asking word decides
    ("Who signs contracts on their side?", PERSON),
    ("Почта закупщицы Зорьки?", EMAIL),
    ("What's the e-mail of their CEO?", EMAIL),
    ("Дай телефон снабженца", PHONE),
    ("Какой номер телефона у снабженца?", PHONE),  # a phone number is a phone
    ("Номер договора с Вектором?", ID),  # the number a document is known by
    ("What is the contract number with Romashka?", ID),
    ("ИНН Ромашки?", ID),
    ("What does the KZ prefix in a contract number stand for?", ""),  # a meaning, whatever it names
    ("Клиент написал на почту, это какой приоритет?", ""),  # "на почту" is a channel, not an address asked
    ("Можно ли продать подписку помесячно?", ""),
])
def test_the_kind_of_value_a_question_asks_for(question: str, kind: str) -> None:
    assert asked(question) == kind


@pytest.mark.parametrize(("question", "kinds"), [
    ("Кому звонить и во сколько?", (PERSON, TIME)),  # two things asked: either answers
    ("Кто подменяет Сафину, когда она в отпуске?", (PERSON,)),  # "когда" here is a condition
    ("Можно ли продать подписку помесячно?", ()),
])
def test_every_kind_asked_after_and(question: str, kinds: tuple[str, ...]) -> None:
    assert asked_all(question) == kinds


@pytest.mark.parametrize(("question", "expected"), [
    ("Астана Гранд платит с отсрочкой?", True),
    ("Можно ли продать подписку помесячно?", True),
    ("Does the Pro edition run on-premise?", True),
    ("Кто подписывает акты?", False),
    ("Which service plan is Zorka on?", False),
    ("Почта закупщицы Зорьки?", False),  # a kind of value is asked
    ("покажи условия Ромашки", False),  # no question at all
])
def test_a_question_asking_yes_or_no(question: str, expected: bool) -> None:
    assert polar(question) is expected


@pytest.mark.parametrize(("kind", "text", "expected"), [
    (END, "Доверенность действует до 31.12.2026; после этой даты запросите новую.", True),
    (END, "Подписывает по доверенности № 7 от 09.01.2026.", False),  # a start date says nothing of the end
    (END, "Если никто не заявит о расторжении за 30 дней до окончания, договор продлевается.", False),
    (END, "Срок: поставка до 15.02.2027", True),
    (DAY, "Следующий звонок — 03.12.2026.", True),
    (DAY, "Перезвонить через 2 недели.", False),
])
def test_a_day_and_the_day_something_ends(kind: str, text: str, expected: bool) -> None:
    assert holds(kind, text) is expected


@pytest.mark.parametrize(("question", "text", "expected"), [
    ("Сколько человек работает в отделе?", "Курс стоит 45 000 руб. за человека.", False),  # a price, not a headcount
    ("Сколько человек работает в отделе?", "В отделе 12 человек.", True),
    ("Сколько дней отсрочки?", "Отсрочка 45 календарных дней.", True),
    ("Сколько процентов скидка?", "Скидка 5 %.", True),
    ("Сколько лицензий у них?", "Склад Про: 18 именных лицензий, 2 склада, 6 ТСД.", True),  # a word between
    ("Сколько складов у них?", "Склад Про: 18 именных лицензий, 2 склада, 6 ТСД.", True),
    ("Сколько гарантия на компрессор?", "5 лет на компрессор.", True),  # "гарантия" is not what is counted
])
def test_a_number_of_the_thing_counted(question: str, text: str, expected: bool) -> None:
    assert holds(NUMBER, text, question) is expected


def test_a_calendar_year_is_no_amount_of_years() -> None:
    assert quantities("если за 2026 год они не наберут 15 млн") == [(15.0, "mln")]
    assert quantities("скидка за подписку на 5 лет") == [(5.0, "year")]


@pytest.mark.parametrize(("kind", "text", "question", "expected"), [
    (DATE, "Договор до 11.03.2027.", "", True),
    (DATE, "Звонить после 16:00, по понедельникам.", "", True),
    (DATE, "Клиент утверждает бюджет осенью.", "", True),
    (DATE, "Клиент платит по предоплате.", "", False),
    (NUMBER, "Отсрочка 45 календарных дней.", "", True),
    (NUMBER, "Бюджет ИТ на 2027 год утверждают в ноябре, до ДС № 3.", "сколько на ИТ в 2027 году", False),
    (PERSON, "Акты подписывает Маслов Олег Викторович.", "", True),
    (PERSON, "Согласует коммерческий директор.", "", True),
    (PERSON, "Акты принимаются только через ЭДО.", "", False),
    (PERSON, "Резерв: Мухин Андрей.", "", True),
    (PERSON, "Звонить Елене Кузнецовой после обеда.", "", True),
    (PERSON, "С клиентом работает «Вектор Логистик».", "", False),  # a company's name in quotes is no person
    (PERSON, "Клиент — ТОО «Астана Гранд Отель».", "", False),
    (PERSON, "Изобретатель — Никола Тесла.", "", True),
    (EMAIL, "Оспанова Гульнара, +7 705 090-36-18.", "", False),
    (EMAIL, "buh@romashka-dom.example", "", True),
    (PHONE, "+7 (812) 640-11-08", "", True),
    (ID, "Договор поставки № ТСС-2023/112 от 20.09.2023.", "", True),
    (ID, "По договору 2023 года — отсрочка 60 дней.", "", False),  # a year and a term, no number it is known by
    (ID, "ИНН 7701234567, КПП 770101001.", "", True),
    (ID, "Договор Д-2023/045 от 01.06.2023 на 2 года.", "", True),
    ("", "anything at all", "", True),
])
def test_whether_a_span_holds_the_kind(kind: str, text: str, question: str, expected: bool) -> None:
    assert holds(kind, text, question) is expected


@pytest.mark.parametrize(("kind", "text", "expected"), [
    (TIME, "Лучше звонить после 16:00.", True),
    (TIME, "Склад работает с 9 часов до 18 часов.", True),
    (TIME, "Поддержка отвечает круглосуточно.", True),
    (TIME, "Бронируйте не позднее чем за 2 рабочих дня.", False),  # a duration is no time of day
    (TIME, "Договор от 12.05.2026.", False),
    (WEIGHT, "Масса: 1 250 кг, габариты 2,1 × 1,2 м.", True),
    (WEIGHT, "Мощность 1000 кВт, КПД 94 %.", False),
])
def test_a_time_of_day_and_a_weight(kind: str, text: str, expected: bool) -> None:
    assert holds(kind, text) is expected


def test_codes_the_question_names_must_be_in_the_text() -> None:
    assert not names_codes("Сколько стоит NT-HP 120?", "Модель: NT-HP 60 · NT-HP 90")
    assert names_codes("Какой COP у NT-HP 45?", "| NT-HP 45 | 45 | 4,5 |")
    assert names_codes("Почём VT-1000?", "VT1000 — 3 870 000")  # however it is hyphenated
    assert not names_codes("КПД у AHU-M 10?", "AHU-M 100")
    assert names_codes("Сколько стоит подписка?", "что угодно")  # no code named


@pytest.mark.parametrize(("question", "text", "expected"), [
    ("кто согласует скидку 12 процентов?", "Размер скидки: от 10 до 15 % · Кто согласует: коммерческий директор", True),
    ("кто согласует скидку 12 процентов?", "Размер скидки: свыше 15 % · Кто согласует: генеральный директор", False),
    ("кто согласует скидку 12 процентов?", "Размер скидки: до 5 % · Кто согласует: менеджер", False),
    ("кто подпишет спеку на 7 млн?", "Спецификации до 10 млн руб. подписывает Котов Е. С.", True),
    ("кто подпишет спеку на 7 млн?", "Спецификации дороже 10 млн руб. подписывает Лысенко Р. А.", False),
    ("кто подпишет спеку на 7 млн?", "Генеральный директор подписывает любые документы.", None),  # states no range
    ("кто согласует скидку?", "до 5 %", None),  # the question gives no amount
    ("скидка на контракт на 5 лет?", "Срок: 2 года · Скидка: 4%. Срок: 3 года · Скидка: 7%", False),  # values
    ("скидка на контракт на 3 года?", "Срок: 2 года · Скидка: 4%. Срок: 3 года · Скидка: 7%", True),
])
def test_an_amount_against_the_ranges_a_span_states(question: str, text: str, expected: bool | None) -> None:
    assert fits(quantities(question), text) is expected


def test_values_are_not_field_words() -> None:
    assert value_terms("какой ДС подписали в феврале 2025?") == {stem("феврале"), "2025"}


def test_slang_is_searched_in_the_documents_words() -> None:
    glossary = Glossary.from_documents([])
    known = {stem("дс")}
    assert glossary.expand("сколько стоит срм на одного юзера", known.__contains__) == \
        "сколько стоит CRM на одного пользователь"
    # a short form the documents use stays, with the term added
    assert glossary.expand("какой дс подписали", known.__contains__) == "какой дс подписали (дополнительное соглашение)"
    # an unknown one is replaced by the term and the short forms the documents do use
    assert glossary.expand("какой допсоглашение", known.__contains__) == "какой дополнительное соглашение (дс)"
    assert glossary.expand("какой курс биткоина?", known.__contains__) == "какой курс биткоина?"


def test_nouns_are_told_apart_for_russian_words_only() -> None:
    assert is_noun("хладагент") and is_noun("пересдача")
    assert not is_noun("продлил") and not is_noun("семи") and not is_noun("long")


def test_the_fields_an_english_question_asks_about_in_russian() -> None:
    assert Glossary.translate("What payment deferral does GradInvest have?") == "оплата платеж отсрочка"
    assert Glossary.translate("Who is the chief engineer at Astana Grand?") == "главный инженер"  # the longer phrase
    assert Glossary.translate("When was Super Bowl 50 played?") == ""
    assert Glossary.fields("How much do we charge to commission a boiler house?") == [  # as said, and in Russian
        ((stem("charge"),), "стоимость расценки"), ((stem("commission"),), "пусконаладка ПНР")]
