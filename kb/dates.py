"""Dated statements in a client's documents: the date, what it is, the sentence and where it is written.

Forms read (Russian and English): 12.03.2024, 2026-11-15, «31 декабря 2026», «15 ноября» (the year of the
sentence, else of the document's last review), "November 15, 2026", "15 November 2026", a month («в ноябре
2026», "in November 2026") or a season («осенью 2026», "autumn 2026") as its last day, and "за 60 дней до …",
"60 days before …" resolved against the date that follows or, without one, the document's contract end.
Worded dates are parsed by dateparser; what a date is comes from the words before it and the section it is in.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

import dateparser

from kb.brief import Citation, block_lines, part_of
from kb.markdown import Document, split_sentences

CONTRACT_END, NOTICE, PROMISE, OPEN_QUESTION, EXPIRY, EVENT = (
    "contract end", "notice deadline", "promise", "open question", "document expiry", "event")
KINDS = (CONTRACT_END, NOTICE, PROMISE, OPEN_QUESTION, EXPIRY, EVENT)

_RU_MONTHS = ("январ", "феврал", "март", "апрел", "ма[йяе]", "июн", "июл", "август", "сентябр", "октябр", "ноябр",
              "декабр")
_EN_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
              "november", "december")
_RU_MONTH = r"(?:" + "|".join(m + r"\w*" if not m.startswith("ма[") else m for m in _RU_MONTHS) + r")"
_EN_MONTH = r"(?:" + "|".join(_EN_MONTHS) + r")"
_YEAR = r"(?:19|20)\d{2}"
_DAY_FIRST = re.compile(rf"\b\d{{1,2}}\s+(?:{_RU_MONTH}|{_EN_MONTH})(?:\s+{_YEAR})?(?:\s*(?:г\.|года?))?",
                        re.IGNORECASE)
_MONTH_FIRST = re.compile(rf"\b{_EN_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+{_YEAR})?", re.IGNORECASE)
_NUMERIC = re.compile(r"\b\d{1,2}\.\d{1,2}\.(?:19|20)\d{2}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b")
_MONTH_YEAR = re.compile(rf"(?<!\d\s)\b(?:в\s+|in\s+)?({_RU_MONTH}|{_EN_MONTH})\s+({_YEAR})", re.IGNORECASE)
_SEASONS = {"весн": (3, 5), "spring": (3, 5), "лет": (6, 8), "summer": (6, 8), "осен": (9, 11), "autumn": (9, 11),
            "fall": (9, 11), "зим": (12, 2), "winter": (12, 2)}
_SEASON_YEAR = re.compile(r"\b(весн\w*|летом|лета|осен\w*|зим\w*|spring|summer|autumn|fall|winter)\s+(?:of\s+)?"
                          rf"({_YEAR})", re.IGNORECASE)
_BEFORE = re.compile(r"\b(?:за|within|no later than)\s+(\d{1,4})\s+(?:календарн\w+\s+|рабоч\w+\s+)?"
                     r"(?:дн\w*|день|дня|days?)\s+(?:до|before|prior to)\b", re.IGNORECASE)
_YEAR_ALONE = re.compile(rf"\b({_YEAR})\b")

_DEADLINE_BEFORE = re.compile(r"(?:\bдо|\bпо|не позднее|\bby|\buntil|\btill|\bdue|\bbefore|no later than|"
                              r"действ\w*|истека\w*|expires?)\s*$", re.IGNORECASE)
_EVENT_BEFORE = re.compile(r"(?:\bот|\bс|\bfrom|\bsince|\bdated|\bon)\s*$|(?:согласован|зафиксирован|подписан|"
                           r"утвержд|approved|agreed|signed)\w*[^;]{0,60}$", re.IGNORECASE)
_KIND_WORDS = [
    (EXPIRY, re.compile(r"доверенност|\bмчд\b|power of attorney|\bpoa\b|сертификат|certificate", re.IGNORECASE)),
    (NOTICE, re.compile(r"уведом|расторж|\bnotice|terminat", re.IGNORECASE)),
    (PROMISE, re.compile(r"обещ|обязу|пообещ|promis|commit", re.IGNORECASE)),
    (OPEN_QUESTION, re.compile(r"\bждёт|\bждет|ожида|\bwaits?\b|awaiting|открыт\w* вопрос|open question",
                               re.IGNORECASE)),
]
_PART_KIND = {"promises": PROMISE, "contract": CONTRACT_END}
_OPEN_HEADING = re.compile(r"открыт|open", re.IGNORECASE)
_PARSER = {"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first", "PREFER_DATES_FROM": "current_period",
           "REQUIRE_PARTS": ["day", "month"]}


@dataclass(frozen=True)
class Dated:
    """A dated statement: the date (the last day of a month or season), what it is, the sentence, its lines."""

    date: dt.date
    kind: str
    text: str
    path: str
    heading_path: tuple[str, ...]
    start_line: int
    end_line: int
    part: str = ""

    @property
    def source(self) -> Citation:
        return Citation(self.path, self.heading_path, self.start_line, self.end_line)

    def as_dict(self) -> dict[str, object]:
        return {"date": self.date.isoformat(), "kind": self.kind, "text": self.text, "part": self.part,
                "source": self.source.as_dict()}


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _month_number(word: str) -> int:
    low = word.lower()
    for i, stem in enumerate(_RU_MONTHS, 1):
        if re.match(stem, low):
            return i
    return next(i for i, name in enumerate(_EN_MONTHS, 1) if low.startswith(name[:3]))


def _parse(text: str, base: dt.date) -> dt.date | None:
    settings = {**_PARSER, "RELATIVE_BASE": dt.datetime.combine(base, dt.time())}
    found = dateparser.parse(text, languages=["ru", "en"], settings=settings)
    return found.date() if found else None


def dates_in(sentence: str, base: dt.date) -> list[tuple[int, int, dt.date]]:
    """Every date the sentence states, as (start, end, date), in order; a year-less date takes ``base``'s year."""
    years = _YEAR_ALONE.findall(sentence)
    base = dt.date(int(years[0]), base.month, base.day) if years and 1900 < int(years[0]) < 2200 else base
    out: list[tuple[int, int, dt.date]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for pattern in (_NUMERIC, _DAY_FIRST, _MONTH_FIRST):
        for m in pattern.finditer(sentence):
            if not free(m.start(), m.end()):
                continue
            day = _parse(m.group(0), base)
            if day is not None:
                out.append((m.start(), m.end(), day))
                taken.append((m.start(), m.end()))
    for m in _MONTH_YEAR.finditer(sentence):
        if free(m.start(1), m.end()):
            out.append((m.start(), m.end(), _last_day(int(m.group(2)), _month_number(m.group(1)))))
            taken.append((m.start(), m.end()))
    for m in _SEASON_YEAR.finditer(sentence):
        if free(m.start(), m.end()):
            first, last = next(v for k, v in _SEASONS.items() if m.group(1).lower().startswith(k))
            year = int(m.group(2)) + (1 if last < first else 0)
            out.append((m.start(), m.end(), _last_day(year, last)))
            taken.append((m.start(), m.end()))
    return sorted(out)


def kind_of(sentence: str, start: int, part: str, heading: str) -> str:
    """What a date at ``start`` of the sentence is: its words first, then the part of the brief it is in, then
    the word before it ("до" a deadline, "от" a past event)."""
    before = sentence[:start]
    if _EVENT_BEFORE.search(before) and not _DEADLINE_BEFORE.search(before):  # "согласовано … 22.08.2026"
        return EVENT
    for kind, words in _KIND_WORDS:
        if words.search(sentence):
            if kind == NOTICE and _EVENT_BEFORE.search(before):
                continue
            return kind
    if part == "issues" and _OPEN_HEADING.search(heading):
        return OPEN_QUESTION
    if _EVENT_BEFORE.search(before):
        return EVENT
    if part in _PART_KIND and (part == "promises" or _DEADLINE_BEFORE.search(before)):
        return _PART_KIND[part]
    return EVENT


@dataclass(frozen=True)
class Statement:
    """One sentence, list item or table row of a document, with its section, part of the brief and lines."""

    text: str
    heading_path: tuple[str, ...]
    part: str
    start_line: int
    end_line: int


def statements(doc: Document) -> list[Statement]:
    """Every sentence of a document, in reading order."""
    out: list[Statement] = []
    for section in doc.sections:
        found = part_of(section.heading_path)
        part = found[0].key if found else ""
        for block in section.blocks:
            for line, a, b in block_lines(block):
                out += [Statement(s, section.heading_path, part, a, b) for s in split_sentences(line) or [line]]
    return out


def dated(doc: Document, base: dt.date) -> list[Dated]:
    """Every dated statement of a document, in reading order.

    ``base`` gives year-less dates their year: the document's last review date, or today.
    """
    out: list[Dated] = []
    relative: list[tuple[int, Dated]] = []
    for st in statements(doc):
        sentence = st.text
        spots = dates_in(sentence, base)
        for start, _, day in spots:
            out.append(Dated(day, kind_of(sentence, start, st.part, st.heading_path[-1]), sentence, doc.path,
                             st.heading_path, st.start_line, st.end_line, st.part))
        for m in _BEFORE.finditer(sentence):
            after = [d for s, _, d in spots if m.end() <= s <= m.end() + 3]  # "за 60 дней до 11.03.2027"
            item = Dated(dt.date.min, NOTICE, sentence, doc.path, st.heading_path, st.start_line, st.end_line,
                         st.part)
            if after:
                out.append(_shifted(item, after[0], int(m.group(1))))
            else:
                relative.append((int(m.group(1)), item))
    ends = sorted({d.date for d in out if d.kind == CONTRACT_END})
    for days, item in relative:  # "за 60 дней до окончания срока" against the contract's end, when it has one
        if len(ends) == 1:
            out.append(_shifted(item, ends[0], days))
    return _unique(out)


def _shifted(item: Dated, end: dt.date, days: int) -> Dated:
    return Dated(end - dt.timedelta(days=days), NOTICE, item.text, item.path, item.heading_path, item.start_line,
                 item.end_line, item.part)


def _unique(items: list[Dated]) -> list[Dated]:
    """One item per (date, sentence): a deadline both computed and written out ("т. е. до 10.01.2027") is one."""
    seen: dict[tuple[dt.date, str, int], Dated] = {}
    for item in items:
        key = (item.date, item.path, item.start_line)
        if key not in seen or item.kind != EVENT:
            seen[key] = item if key not in seen or seen[key].kind == EVENT else seen[key]
    return sorted(seen.values(), key=lambda d: (d.path, d.start_line, d.date))
