"""What kind of value a question asks for, and whether a piece of text holds one.

"Когда / when" asks for a date or a time, "сколько / how much" for a number, "кто / who" for a person or a
role, "почта / e-mail" for an address, "телефон / phone" for a number to call. An answer that holds no
value of the asked kind is about the topic, not the fact: kb then looks for a sentence that holds one,
and says "check the source" rather than answer with confidence when there is none.
"""

from __future__ import annotations

import re

from kb.text import terms

DATE, NUMBER, PERSON, EMAIL, PHONE = "date", "number", "person", "email", "phone"

_ASKS = [  # the pattern matching earliest in the question decides ("Кто подменяет её, когда она в отпуске?")
    (EMAIL, r"\be-?mail|\bemail|\bпочт[аы]\b|имейл|емейл|\bмейл"),
    (PHONE, r"телефон|\bphone|мобильн"),
    (DATE, r"\bкогда\b|какого числа|како[йе] (?:числ|дат)|до какой даты|\bдата\b|\bwhen\b|what date|until when|"
           r"by when|\bdeadline|истекает|заканчивается|истечёт|истечет|\bexpire"),
    (PERSON, r"^\W*(?:а\s+)?(?:кто|кому|кого|с кем)\b|\b(?:кто|кому|с кем)\b|^\W*(?:who|whom)\b|\bwho\b"),
    (NUMBER, r"сколько|скольки|\bскок|почём|почем|какой процент|\bhow (?:much|many|long)\b|what percent|"
             r"\bprice of|\bcost of|\bwhat does .* cost|кредитный лимит|credit limit"),
]
_ASKS_RE = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in _ASKS]

_MONTHS = (r"январ|феврал|март|апрел|ма[йяюе]\b|июн|июл|август|сентябр|октябр|ноябр|декабр|"
           r"january|february|march|april|\bmay\b|june|july|august|september|october|november|december|"
           r"\bjan\b|\bfeb\b|\bmar\b|\bapr\b|\bjun\b|\bjul\b|\baug\b|\bsep\b|\boct\b|\bnov\b|\bdec\b")
_WEEKDAYS = (r"понедельник|вторник|сред[аыу]\b|четверг|пятниц|суббот|воскресень|"
             r"monday|tuesday|wednesday|thursday|friday|saturday|sunday")
_SEASONS = r"весн|летом|\bлето\b|осен|зим[аоуы]|spring|summer|autumn|\bfall\b|winter|квартал|quarter"
_DURATION = (r"\d+\s*(?:-|–)?\s*(?:\d+\s*)?(?:календарн\w*|рабоч\w*|банковск\w*)?\s*"
             r"(?:дн|день|дня|сут|недел|месяц|мес\b|час|лет|год|минут|working day|day|week|month|hour|year)")
_NUMBER_WORDS = (r"\b(?:один|одна|одну|два|две|три|четыре|пять|шесть|семь|восемь|девять|десять|двенадцать|"
                 r"пятнадцать|двадцать|тридцать|сорок|пятьдесят|шестьдесят|девяносто|сто|половин\w*|"
                 r"one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|half)\b")
_HOLDS = {
    EMAIL: re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    PHONE: re.compile(r"(?:\+\d[\d\s()-]{7,}\d|\b\d{3}[\s-]\d{2}[\s-]\d{2}\b)"),
    DATE: re.compile(r"\b\d{1,2}\.\d{1,2}(?:\.\d{2,4})?\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}\b|\b(?:19|20)\d{2}\b|"
                     + _MONTHS + "|" + _WEEKDAYS + "|" + _SEASONS + "|" + _DURATION
                     + r"|немедленно|сразу|immediately|ежедневно|ежемесячно|ежеквартально|daily|monthly",
                     re.IGNORECASE),
    NUMBER: re.compile(r"\d|" + _NUMBER_WORDS, re.IGNORECASE),
    PERSON: re.compile(
        r"\b[А-ЯЁ][а-яё]+\s+[А-ЯЁ][а-яё]+"  # a surname and a given name, either order
        r"|\b[А-ЯЁ][а-яё]+\s+[А-ЯЁ]\.\s?[А-ЯЁ]\.|\b[А-ЯЁA-Z]\.\s?(?:[А-ЯЁA-Z]\.\s?)?[А-ЯЁA-Z][а-яёa-z]+"  # initials
        r"|директор|бухгалтер|менеджер|руководител|инженер|юрист|специалист|начальник|администратор|"
        r"заместител|владел|отдел\w*|служб\w*|\bсам\b|самостоятельно|\bлично|"
        r"\b(?:[Dd]irector|[Mm]anager|[Aa]ccountant|[Ee]ngineer|[Hh]ead of|[Ll]awyer|[Oo]fficer|[Oo]wner)\b"
        r"|\b(?:CEO|CFO|CTO)\b",
    ),
}


def asked(question: str) -> str:
    """The kind of value ``question`` asks for (one of the module's constants), or "" for none in particular."""
    found = [(m.start(), kind) for kind, pattern in _ASKS_RE if (m := pattern.search(question))]
    return min(found)[1] if found else ""


def holds(kind: str, text: str, question: str = "") -> bool:
    """Whether ``text`` holds a value of ``kind`` (any text does when nothing in particular is asked) other than
    the numbers the question itself gives ("в 2027 году" is no answer to "сколько … в 2027 году")."""
    pattern = _HOLDS.get(kind)
    if pattern is None:
        return True
    text = re.sub(r"№\s*\d+", " ", text)  # a document's number is no quantity
    for number in set(re.findall(r"\d+", question)):
        text = re.sub(rf"(?<!\d){number}(?!\d)", " ", text)
    return bool(pattern.search(text))


_CODE = re.compile(r"(?<![\w-])([A-ZА-ЯЁ]{1,5}(?:-[A-ZА-ЯЁ]{1,5})?)[-\s]?(\d{1,6})(?![\d,.]\d)")


def codes(question: str) -> list[re.Pattern[str]]:
    """Model numbers, priorities and other codes the question names ("NT-HP 120", "VT-1000", "P1"), as patterns
    that find them however they are spaced or hyphenated."""
    out = []
    for letters, digits in _CODE.findall(question):
        prefix = r"[-\s]?".join(re.escape(part) for part in letters.split("-"))
        out.append(re.compile(r"(?<!\w)" + prefix + r"[-\s]?" + digits + r"(?!\d)", re.IGNORECASE))
    return out


def names_codes(question: str, text: str) -> bool:
    """Whether ``text`` holds every code the question names (true when it names none)."""
    return all(p.search(text) for p in codes(question))


def value_terms(question: str) -> set[str]:
    """The index terms of the question's values: numbers, dates, months and weekdays ("в феврале 2025")."""
    found = re.findall(r"\w+", question)
    return {t for w, t in zip(found, (terms(w)[0] if terms(w) else "" for w in found))
            if any(c.isdigit() for c in w) or re.match(_MONTHS + "|" + _WEEKDAYS, w.lower())}
