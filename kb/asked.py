"""What kind of value a question asks for, and whether a piece of text holds one.

"Когда / when" asks for a date or a time, "сколько / how much" for a number, "кто / who" for a person or a
role, "почта / e-mail" for an address, "телефон / phone" for a number to call, "номер договора / contract number"
for the number a document is known by. An answer that holds no
value of the asked kind is about the topic, not the fact: kb then looks for a sentence that holds one,
and says "check the source" rather than answer with confidence when there is none.
"""

from __future__ import annotations

import re

from kb.text import is_counted_noun, terms

DATE, NUMBER, PERSON, EMAIL, PHONE = "date", "number", "person", "email", "phone"
DAY, END = "day", "end"  # a calendar day ("какого числа"); the day something ends ("до какого числа", "expire")
TIME, WEIGHT = "time", "weight"  # a time of day ("во сколько", "до скольки"); a weight ("сколько весит")
ID = "id"  # the number a document or an organisation is known by ("номер договора", "ИНН")

_ASKS = [  # the pattern matching earliest in the question decides ("Кто подменяет её, когда она в отпуске?"), then
    # the earlier in this list ("сколько весит" asks a weight, not any number)
    (TIME, r"во сколько|в котором часу|до скольки|со скольки|с какого часа|до какого часа|\bwhat time\b|"
           r"opening hours|часы работы|график работы"),
    (WEIGHT, r"сколько вес|\bвес(?:а|ом)?\b|\bмасс[аыу]\b|how heavy|\bweigh"),
    (EMAIL, r"\be-?mail|\bemail|\bпочт[аы]\b|имейл|емейл|\bмейл"),
    (PHONE, r"телефон|\bphone|мобильн"),
    (ID, r"\bномер\w*(?!\s+(?:телефон|мобильн|сотов))|\b(?:contract|agreement|invoice|order|account) (?:number|no\b)|"
         r"\bnumber of (?:the |our |their )?(?:contract|agreement|invoice|order|account)|\bИНН\b|\bБИН\b|\btax id"),
    (DATE, r"\bкогда\b|(?:в|за) какой срок|how soon|"
           r"какого числа|како[йе] (?:числ|дат)|до какой даты|\bдата\b|\bwhen\b|what date|until when|"
           r"by when|\bdeadline|истекает|заканчивается|истечёт|истечет|\bexpire"),
    (PERSON, r"^\W*(?:а\s+)?(?:кто|кому|кого|с кем)\b|\b(?:кто|кому|с кем)\b|^\W*(?:who|whom)\b|\bwho\b"),
    (NUMBER, r"сколько|скольки|\bскок|почём|почем|какой процент|\bhow (?:much|many|long)\b|what percent|"
             r"\bprice of|\bcost of|\bwhat does .* cost|кредитный лимит|credit limit|"
             # a quantity named by what it measures ("какой оборот", "what was their turnover")
             r"\bоборот|\bвыручк|\bбюджет|\bстоимост|\bцен[аыу]\b|\bскидк|\bturnover\b|\brevenue\b|\bbudget\b|"
             r"\bprice\b|\bcost\b|\bdiscount\b"),
]
_ASKS_RE = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in _ASKS]
# A question asking when, more exactly: the day something ends, or a calendar day. A span of a date question
# must hold one of these when the question asks for it: "за 30 дней до окончания" does not say until when.
_DATES_RE = [
    (END, re.compile(r"до какого числа|до какой даты|по какое число|\buntil when|\btill when|\bby when|"
                     r"истека|истеч[её]т|заканчива|законч|кончает|оканчива|\bexpir|\bvalid until|\bend date|"
                     r"\b(?:does|do|will)\b[^?]*\bend\b|\bends\b",  # not "when did the war end": a day in the past
                     re.IGNORECASE)),
    (DAY, re.compile(r"какого числа|како[йе] (?:числ|дат)|\bдата\b|what date|which date|which day", re.IGNORECASE)),
]

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
_DAY = (r"(?:\b\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\s+(?:" + _MONTHS + r")|(?:"
        + _MONTHS + r")\w*\s+\d{1,2}\b|\bконц[аеу]\s+(?:года|месяца|квартала)"
        r"|\bend of (?:the )?(?:year|month|quarter))")
_HOLDS = {
    DAY: re.compile(_DAY, re.IGNORECASE),
    END: re.compile(r"(?:\bдо|\bпо|не позднее|\buntil|\btill|\bthrough|\bby|no later than|истека\w*|истеч\w*|"
                    r"оконч\w*|заканчива\w*|expir\w*|срок\w* действия|valid)\W{0,3}(?:\w+\W{1,3}){0,1}" + _DAY,
                    re.IGNORECASE),
    TIME: re.compile(r"\b\d{1,2}[:.]\d{2}\b(?!\.?\d)|\b\d{1,2}\s*(?:ч\b|час\w*|утра|вечера|am\b|pm\b|a\.m\.|p\.m\.)"
                     r"|круглосуточно|24/7|around the clock", re.IGNORECASE),
    WEIGHT: re.compile(r"\d+(?:[.,]\d+)?\s*(?:кг|килограмм\w*|тонн\w*|т\b|kg|kilo\w*|tonnes?|tons?|lbs?)(?!\w)",
                       re.IGNORECASE),
    EMAIL: re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    PHONE: re.compile(r"(?:\+\d[\d\s()-]{7,}\d|\b\d{3}[\s-]\d{2}[\s-]\d{2}\b)"),
    # "№ ТСС-2023/112", "No. 45", a code of letters and digits ("ТСС-2023/112", "Д-2025/021"), a tax number
    ID: re.compile(r"№\s*\S*\d|\b(?:No\.?|#)\s*\S*\d|\b[A-ZА-ЯЁ]{2,}[-/]?\d[\w/-]*|\b[A-ZА-ЯЁ]-\d+/\d[\w/-]*"
                   r"|\b\d{9,12}\b"),
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


# A question about what something means asks for an explanation, whatever values it names ("what does the ТСС-KZ
# prefix in a contract number stand for?").
_MEANING = re.compile(r"\bstand for\b|\bwhat does .* mean\b|что (?:означает|значит)|как расшифров", re.IGNORECASE)


def asked(question: str) -> str:
    """The kind of value ``question`` asks for (one of the module's constants), or "" for none in particular."""
    if _MEANING.search(question):
        return ""
    found = [(m.start(), order, kind) for order, (kind, pattern) in enumerate(_ASKS_RE)
             if (m := pattern.search(question))]
    kind = min(found)[2] if found else ""
    if kind == DATE:
        kind = next((k for k, pattern in _DATES_RE if pattern.search(question)), DATE)
    return kind


_WH = re.compile(r"\b(?:кто|кого|кому|кем|что|чего|чем|где|куда|откуда|когда|как\w*|сколько|скольк\w*|почему|зачем|"
                 r"чей|чья|чьё|чьи|котор\w+|почём|почем|скок\w*|насколько|"
                 r"who|whom|whose|what|which|where|when|why|how)\b", re.IGNORECASE)
_AUXILIARY = re.compile(r"^\W*(?:do|does|did|is|are|was|were|can|could|will|would|should|shall|has|have|had|may|"
                        r"must|might)\b", re.IGNORECASE)


def polar(question: str) -> bool:
    """Whether ``question`` asks yes or no ("Астана Гранд платит с отсрочкой?", "Можно ли …", "Does X have …"): an
    English question opening with an auxiliary verb, a Russian one asked ("?", "ли") without an asking word; a question
    for a kind of value ("Почта закупщицы?") is none."""
    if asked(question):
        return False
    if re.search("[а-яё]", question, re.IGNORECASE):
        return not _WH.search(question) and bool(re.search(r"\?|\bли\b", question))
    return bool(_AUXILIARY.match(question))


_AND = re.compile(r"\s(?:и|а также|and)\s+$", re.IGNORECASE)


def asked_all(question: str) -> tuple[str, ...]:
    """Every kind of value ``question`` asks for: the first (:func:`asked`), and those asked after "и / and"
    ("кому звонить и во сколько" asks for a person and a time; either one answers)."""
    first = asked(question)
    more = [kind for kind, pattern in _ASKS_RE for m in pattern.finditer(question)
            if m.start() and _AND.search(question[: m.start()])]
    return tuple(dict.fromkeys([first, *more])) if first else ()


def holds_any(kinds: tuple[str, ...], text: str, question: str = "") -> bool:
    """Whether ``text`` holds a value of one of ``kinds`` (any text does when none is asked)."""
    return not kinds or any(holds(kind, text, question) for kind in kinds)


_COUNTED = re.compile(r"\b(?:сколько|скольк\w*|how many)\s+(\w+)", re.IGNORECASE)
# a number and the word or two after it ("18 именных лицензий"), read without consuming them ("6 ТСД, 2 склада")
_COUNT = re.compile(r"\d+(?:[ \u00a0]\d{3})*(?:[.,]\d+)?(?=\W{0,2}((?:\w+\W{1,3})?\w+))")


_NOT_COUNTED = frozenset(terms("время времени деньги денег стоимость time money"))


def counted(question: str, text: str) -> bool | None:
    """Whether ``text`` counts what the question counts ("сколько человек" -> "12 человек"), in the question's
    language; None when the question counts nothing named ("сколько стоит") or is in another language."""
    m = _COUNTED.search(question)
    if m is None or terms(m.group(1))[0] in _NOT_COUNTED or re.match(_NUMBER_WORDS, m.group(1), re.IGNORECASE):
        return None
    noun = m.group(1)
    if bool(re.search("[а-яё]", noun, re.IGNORECASE)) != bool(re.search("[а-яё]", text, re.IGNORECASE)):
        return None
    if re.search("[а-яё]", noun, re.IGNORECASE) and not is_counted_noun(noun):
        return None
    unit = next((u for u, pattern in _UNITS.items() if re.match(pattern.removeprefix(r"\s*"), noun, re.IGNORECASE)), "")
    if unit:
        return bool(re.search(_AMOUNT + _UNITS[unit], text, re.IGNORECASE))
    wanted = terms(noun)[0]
    return any(wanted in terms(c.group(1)) for c in _COUNT.finditer(text))


_QUOTED = re.compile(r"«[^«»]*»|“[^“”]*”")


def holds(kind: str, text: str, question: str = "") -> bool:
    """Whether ``text`` holds a value of ``kind`` (any text does when nothing in particular is asked) other than
    the numbers the question itself gives ("в 2027 году" is no answer to "сколько … в 2027 году")."""
    pattern = _HOLDS.get(kind)
    if pattern is None:
        return True
    if kind != ID:
        text = re.sub(r"№\s*\d+", " ", text)  # a document's number is no quantity
    if kind == PERSON:
        text = _QUOTED.sub(" ", text)  # a name in quotes is a company's or a product's («Вектор Логистик»)
    for number in set(re.findall(r"\d+", question)):
        text = re.sub(rf"(?<!\d){number}(?!\d)", " ", text)
    return bool(pattern.search(text)) and (kind != NUMBER or counted(question, text) is not False)


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


_AMOUNT = r"(\d+(?:[ \u00a0]\d{3})*(?:[.,]\d+)?)"
_UNITS = {
    "%": r"\s*(?:%|процент\w*|percent)",
    "mln": r"\s*(?:млн|миллион\w*|million|mln|m\b)",
    "thousand": r"\s*(?:тыс\w*|thousand|k\b)",
    "day": r"\s*(?:календарн\w*\s+|рабоч\w*\s+|банковск\w*\s+)?(?:дн\w*|день|дня|days?)",
    "month": r"\s*(?:месяц\w*|мес\b|months?)",
    "year": r"\s*(?:год\w*|лет|years?)",
}
_ABOVE = r"(?:свыше|более|больше|дороже|выше|от|over|above|more than|from)"
_BELOW = r"(?:до|не более|не выше|не больше|дешевле|менее|меньше|up to|under|below|less than)"


def _number(text: str) -> float:
    return float(text.replace(" ", "").replace("\u00a0", "").replace(",", "."))


def quantities(question: str) -> list[tuple[float, str]]:
    """The amounts the question gives with their units ("скидку 12 процентов", "спеку на 7 млн")."""
    return [(_number(m.group(1)), unit) for unit, pattern in _UNITS.items()
            for m in re.finditer(_AMOUNT + pattern, question, re.IGNORECASE)
            if not (unit == "year" and _CALENDAR_YEAR.fullmatch(m.group(1)))]  # "за 2026 год" is no amount of years


_CALENDAR_YEAR = re.compile(r"(?:19|20)\d{2}")


def fits(amounts: list[tuple[float, str]], text: str) -> bool | None:
    """Whether the ranges ``text`` states ("от 10 до 15 %", "свыше 15 %", "до 20 млн"), or else its single values,
    hold the question's amounts of the same units; None when it states none in any of their units."""
    verdicts = [v for a in amounts if (v := _fits(a, text)) is not None]
    return all(verdicts) if verdicts else None


def _fits(amount: tuple[float, str], text: str) -> bool | None:
    value, unit = amount
    if not re.search(_UNITS[unit], text, re.IGNORECASE):
        return None
    low = text.lower()
    found: list[tuple[float, float]] = []
    for m in re.finditer(rf"(?:от\s+|from\s+)?{_AMOUNT}\s*(?:%|\w+\.?)?\s*(?:–|-|—|до|to)\s*{_AMOUNT}", low):
        found.append((_number(m.group(1)), _number(m.group(2))))
    for m in re.finditer(rf"\b{_BELOW}\s+{_AMOUNT}", low):
        found.append((float("-inf"), _number(m.group(1))))
    for m in re.finditer(rf"\b{_ABOVE}\s+{_AMOUNT}(?!\s*(?:–|-|—|до|to)\s*\d)", low):
        found.append((_number(m.group(1)), float("inf")))
    if not found:  # single values in the unit ("2 года", "3 года"): the amount must be one of them
        stated = [_number(m.group(1)) for m in re.finditer(_AMOUNT + _UNITS[unit], low, re.IGNORECASE)]
        return value in stated if stated else None
    return any(lo <= value <= hi for lo, hi in found)
