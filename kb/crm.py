"""Import from the CRM: amoCRM and Bitrix24 exports (CSV or XLSX) of companies, contacts and deals become
client cards.

A company the export names is matched to an existing client card the way questions name clients
(:class:`kb.names.Names`: legal forms, quotes, Latin transliteration, declined forms); a company no card
names gets a new card from the client template (:mod:`kb.authoring`). Either way kb writes only two sections
it owns, each under a fixed heading and marked by a Markdown comment that is never shown nor indexed::

    ## Контакты из CRM

    [//]: # (kb import-crm: amocrm 2026-12-02 ...)

    | ФИО | Должность | Телефон | Email |
    |---|---|---|---|

and ``## Сделки из CRM`` (Сделка | Сумма | Этап | Ответственный | Дата). A re-import replaces those sections'
bodies only; every other byte of the card stays as it was. A section is written only when the file has
contacts (or deals) for that client, so a deals export leaves the imported contacts alone.

Files are told apart by their content, never their name: an XLSX is a zip holding ``xl/workbook.xml``, read
with openpyxl (read-only); a CSV is text that decodes (UTF-8, UTF-16 with a BOM, or Windows-1251) and has a
delimiter (``;``, ``,`` or tab) in its header. Anything else, an empty file, or one over the size limit is
refused with the reason, and nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import html
import io
import re
import unicodedata
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import authoring, edits
from kb.errors import BadInput, KbError
from kb.markdown import parse
from kb.names import LEGAL_FORMS, TYPO, Name, Names, fold, similarity, words
from kb.owners import owner_key, owner_name
from kb.text import STOPWORDS

if TYPE_CHECKING:
    from kb.service import KnowledgeBase

FORMATS = ("amocrm", "bitrix24")
FORMAT_NAMES = {"amocrm": "amoCRM", "bitrix24": "Bitrix24"}
CONTACTS_HEADING = "Контакты из CRM"
DEALS_HEADING = "Сделки из CRM"
CONTACT_COLUMNS = ("ФИО", "Должность", "Телефон", "Email")
DEAL_COLUMNS = ("Сделка", "Сумма", "Этап", "Ответственный", "Дата")
MARK = "kb import-crm"
CREATED, UPDATED, UNCHANGED, SKIPPED = "created", "updated", "unchanged", "skipped"
MAX_ROWS = 50_000
MAX_CELL = 300
HEADER_ROWS = 10  # the header is the first row (of the first ten) naming a company column

_MARK_LINE = re.compile(r"^\[//\]: # \(" + re.escape(MARK) + r":")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_DMY = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_YMD = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_ENTITY = re.compile(r"\(\s*(контакт|компания|сделка|лид|contact|company|deal|lead)\s*\)\s*$")

# Export columns, folded (lower case, ё as е, "e-mail" as "email", punctuation and currency signs dropped),
# by what they hold; the first listed wins when a row fills several. Both formats accept all of them: the
# names overlap and exports differ by account settings, so a column is never dropped for its CRM's spelling.
COLUMNS: dict[str, tuple[str, ...]] = {
    "company": ("компания", "название компании", "наименование компании", "организация", "название организации",
                "компания контакта"),
    "name": ("название", "наименование"),  # the row's own name: a company, contact or deal as "Тип" says
    "type": ("тип", "тип сущности", "тип записи"),
    "contact": ("полное имя", "фио", "основной контакт", "контакт", "контактное лицо", "имя контакта",
                "полное имя контакта"),
    "first": ("имя",),
    "middle": ("отчество",),
    "last": ("фамилия",),
    "position": ("должность",),
    "phone": ("рабочий телефон", "телефон", "мобильный телефон", "рабочий прямой телефон", "другой телефон",
              "домашний телефон", "телефон контакта"),
    "email": ("рабочий email", "email", "личный email", "частный email", "другой email", "email контакта",
              "электронная почта", "эл почта", "почта"),
    "deal": ("название сделки", "сделка", "наименование сделки"),
    "amount": ("бюджет", "сумма", "сумма сделки", "бюджет сделки"),
    "currency": ("валюта",),
    "stage": ("этап сделки", "этап", "стадия сделки", "стадия", "статус сделки", "статус"),
    "responsible": ("ответственный", "ответственный менеджер", "ответственный пользователь"),
    "created": ("дата создания", "дата создания сделки", "создано", "создана"),
}
# The columns the README documents per format (what their Russian-language exports call them).
DOCUMENTED = {
    "amocrm": ("Компания / Название компании", "Тип (контакт, компания)", "Полное имя / Имя, Фамилия / "
               "Основной контакт", "Должность", "Рабочий телефон / Мобильный телефон / Телефон",
               "Рабочий email / Личный email / Email", "Название сделки", "Бюджет", "Этап сделки / Статус",
               "Ответственный", "Дата создания"),
    "bitrix24": ("Компания / Название компании", "Имя, Отчество, Фамилия / Контакт", "Должность",
                 "Рабочий телефон / Мобильный телефон", "Рабочий e-mail / Частный e-mail", "Название сделки",
                 "Сумма, Валюта", "Стадия сделки", "Ответственный", "Дата создания"),
}
_ALIAS = {alias: key for key, names in COLUMNS.items() for alias in names}
_PRIORITY = {alias: i for names in COLUMNS.values() for i, alias in enumerate(names)}
_ENTITIES = {"контакт": "contact", "contact": "contact", "компания": "company", "company": "company",
             "сделка": "deal", "deal": "deal", "лид": "deal", "lead": "deal"}
_CURRENCIES = (("₽", "₽"), ("руб", "₽"), ("rub", "₽"), ("rur", "₽"), ("$", "$"), ("usd", "$"), ("доллар", "$"),
               ("€", "€"), ("eur", "€"), ("евро", "€"), ("₸", "₸"), ("kzt", "₸"), ("тенге", "₸"), ("byn", "BYN"),
               ("белорусск", "BYN"), ("uzs", "UZS"), ("сум", "UZS"), ("cny", "¥"), ("юан", "¥"))


# -- reading the file --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sheet:
    """One table of the file: its header and rows, every cell as text."""

    name: str
    rows: list[list[str]]


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 104858 else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"


def check_size(size: int, name: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise BadInput(f"{name} is {_size(size)}, over the {_size(max_bytes)} limit (KB_MAX_FILE_MB); "
                       "nothing was imported")
    if size == 0:
        raise BadInput(f"{name} is empty")


def _cell(value: Any) -> str:
    """A cell as one line of text: dates as ДД.ММ.ГГГГ, whole numbers without ".0", HTML entities decoded."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())[:MAX_CELL]


def _xlsx(data: bytes, name: str, max_bytes: int) -> list[Sheet]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BadInput(f"{name} looks like a zip archive but cannot be opened: {exc}") from exc
    names = {e.filename for e in entries}
    if "xl/workbook.xml" not in names:
        raise BadInput(f"{name} is a zip archive, not an Excel workbook (no xl/workbook.xml); "
                       "kb reads CSV or XLSX exports only")
    unpacked = sum(e.file_size for e in entries)
    limit = max(64 * 1048576, 20 * max_bytes)
    if len(entries) > 10_000 or unpacked > limit:
        raise BadInput(f"{name} unpacks to {_size(unpacked)} in {len(entries)} parts, over the "
                       f"{_size(limit)} kb reads from one workbook")
    import openpyxl  # only here: the CLI starts faster without it

    sheets: list[Sheet] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # real exports often lack styles; openpyxl warns about it
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                total = 0
                for ws in book.worksheets:
                    rows: list[list[str]] = []
                    for values in ws.iter_rows(values_only=True):
                        row = [_cell(v) for v in values]
                        while row and not row[-1]:
                            row.pop()
                        rows.append(row)
                        total += 1
                        if total > MAX_ROWS + HEADER_ROWS:
                            raise BadInput(f"{name} has over {MAX_ROWS} rows; split the export")
                    sheets.append(Sheet(str(ws.title), rows))
            finally:
                book.close()
    except KbError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a broken workbook
        raise BadInput(f"cannot read {name} as an Excel workbook: {type(exc).__name__}: {exc}") from exc
    return sheets


def _text(data: bytes, name: str) -> str:
    """The file as text: UTF-8 (with or without a BOM), UTF-16 with a BOM, else Windows-1251."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8-sig", "cp1251"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BadInput(f"{name} is neither CSV text nor an XLSX workbook (it does not decode as text)")
    text = text.removeprefix("\ufeff")
    control = sum(1 for ch in text[:65536] if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")
    if "\x00" in text or control:
        raise BadInput(f"{name} is neither CSV text nor an XLSX workbook (binary data)")
    if not text.strip():
        raise BadInput(f"{name} is empty")
    return text


def _csv(data: bytes, name: str) -> list[Sheet]:
    text = _text(data, name)
    head = text.lstrip()[:2048].lower()
    if head.startswith(("<!doctype html", "<html", "<table", "<?xml", "<meta", "<head", "<style")):
        raise BadInput(f"{name} is an HTML or XML page, not a table file (Bitrix24's «Экспорт в Excel» writes "
                       "HTML): export CSV, or open it in Excel and save it as .xlsx")
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=lambda d: counts[d])
    if not counts[delimiter]:
        raise BadInput(f"{name} is text but not a table: its first line has no ; , or tab between columns")
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append([_cell(v) for v in row])
            if len(rows) > MAX_ROWS + HEADER_ROWS:
                raise BadInput(f"{name} has over {MAX_ROWS} rows; split the export")
    except csv.Error as exc:
        raise BadInput(f"cannot read {name} as CSV: {exc}") from exc
    return [Sheet("", rows)]


def read_table(data: bytes, name: str, max_bytes: int) -> tuple[str, list[Sheet]]:
    """What the file is ("csv" or "xlsx", by content) and its tables; :class:`BadInput` says why it is neither."""
    check_size(len(data), name, max_bytes)
    if data.startswith(b"PK\x03\x04"):
        return "xlsx", _xlsx(data, name, max_bytes)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise BadInput(f"{name} is an old Excel .xls workbook: save it as .xlsx, or export CSV")
    if data.startswith((b"PK\x05\x06", b"PK\x07\x08")):
        raise BadInput(f"{name} is an empty or split zip archive, not an Excel workbook")
    return "csv", _csv(data, name)


# -- what the rows say --------------------------------------------------------------------------------------------
def column_key(header: str) -> tuple[str, str, bool]:
    """A header as compared: folded words, the entity a "(контакт)"-style suffix names, and whether it
    carries a rouble sign ("Бюджет ₽")."""
    h = header.lower().replace("ё", "е").replace("e-mail", "email").replace("е-mail", "email")
    rouble = "₽" in h or "руб" in h
    entity = ""
    m = _ENTITY.search(h)
    if m:
        entity = _ENTITIES[m.group(1)]
        h = h[:m.start()]
    h = re.sub(r"\bруб\b\.?|[₽$€]", " ", h)
    return " ".join(re.findall(r"\w+", h)), entity, rouble


@dataclass(frozen=True)
class Columns:
    """Which columns of a header hold what: (field, entity) -> column indexes, best first."""

    where: dict[tuple[str, str], list[int]]
    rouble: bool = False

    @classmethod
    def of(cls, header: list[str]) -> Columns:
        found: dict[tuple[str, str], list[tuple[int, int]]] = {}
        rouble = False
        for i, text in enumerate(header):
            key, entity, sign = column_key(text)
            what = _ALIAS.get(key)
            if what is None:
                continue
            found.setdefault((what, entity), []).append((_PRIORITY[key], i))
            rouble = rouble or (what == "amount" and sign)
        return cls({k: [i for _, i in sorted(v)] for k, v in found.items()}, rouble)

    def knows(self) -> bool:
        """Whether rows can be placed: a company column, or a type and a name column."""
        has = {what for what, _ in self.where}
        return "company" in has or ("name" in has and "type" in has) or (("name", "company") in self.where)

    def values(self, row: list[str], what: str, entity: str = "") -> list[str]:
        """The non-empty values of the columns holding ``what``: those marked for ``entity`` first, then the
        unmarked ones."""
        keys = [(what, entity), (what, "")] if entity else [(what, "")]
        out = []
        for key in keys:
            for i in self.where.get(key, []):
                if i < len(row) and row[i]:
                    out.append(row[i])
        return list(dict.fromkeys(out))

    def value(self, row: list[str], what: str, entity: str = "") -> str:
        found = self.values(row, what, entity)
        return found[0] if found else ""


@dataclass(frozen=True)
class Contact:
    name: str
    position: str = ""
    phone: str = ""
    email: str = ""

    def cells(self) -> tuple[str, ...]:
        return self.name, self.position, self.phone, self.email


@dataclass(frozen=True)
class Deal:
    name: str
    amount: str = ""
    stage: str = ""
    responsible: str = ""
    date: str = ""

    def cells(self) -> tuple[str, ...]:
        return self.name, self.amount, self.stage, self.responsible, self.date

    def day(self) -> dt.date:
        m = _DMY.search(self.date)
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))) if m else dt.date.max
        except ValueError:
            return dt.date.max


@dataclass
class Company:
    """What the file says about one company (several spellings of it may meet here)."""

    name: str
    spellings: list[str] = field(default_factory=list)
    contacts: dict[str, Contact] = field(default_factory=dict)
    deals: dict[tuple[str, str], Deal] = field(default_factory=dict)
    responsible: Counter[str] = field(default_factory=Counter)  # of its company rows, weighted over the rest
    rows: int = 0

    def add_contact(self, c: Contact) -> None:
        key = _folded(c.name) or c.email.lower() or c.phone
        old = self.contacts.get(key)
        if old is None:
            self.contacts[key] = c
            return
        phones = ", ".join(dict.fromkeys(p for p in (old.phone, c.phone) for p in p.split(", ") if p))
        emails = ", ".join(dict.fromkeys(e for e in (old.email, c.email) for e in e.split(", ") if e))
        self.contacts[key] = Contact(old.name or c.name, old.position or c.position, phones, emails)

    def add_deal(self, d: Deal) -> None:
        key = (_folded(d.name), d.date)
        old = self.deals.get(key)
        self.deals[key] = d if old is None else Deal(*(a or b for a, b in zip(old.cells(), d.cells())))

    def sorted_contacts(self) -> list[Contact]:
        return sorted(self.contacts.values(), key=lambda c: (_folded(c.name), c.email, c.phone))

    def sorted_deals(self) -> list[Deal]:
        return sorted(self.deals.values(), key=lambda d: (d.day(), _folded(d.name), d.amount))


def _folded(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def _date(text: str) -> str:
    """A date as the content writes it (ДД.ММ.ГГГГ), time dropped; other text kept as it is."""
    m = _DMY.search(text)
    if m:
        return f"{int(m.group(1)):02d}.{int(m.group(2)):02d}.{m.group(3)}"
    m = _YMD.search(text)
    if m:
        return f"{int(m.group(3)):02d}.{int(m.group(2)):02d}.{m.group(1)}"
    return text


def _currency(text: str) -> str:
    low = text.lower()
    return next((sign for word, sign in _CURRENCIES if word in low), "")


def money(value: str, currency: str = "", rouble: bool = False) -> str:
    """An amount as the content writes it: "350 000 ₽", "1 250,50 $"; text that is no number is kept."""
    raw = value.strip()
    if not raw:
        return ""
    sign = _currency(raw) or _currency(currency) or ("₽" if rouble else "")
    num = re.sub(r"[^\d,.\-]", "", raw)
    if not re.search(r"\d", num):
        return raw
    if "," in num and "." in num:
        decimal = "," if num.rfind(",") > num.rfind(".") else "."
    elif num.count(",") == 1 and len(num.rsplit(",", 1)[1]) in (1, 2):
        decimal = ","
    elif num.count(".") == 1 and len(num.rsplit(".", 1)[1]) != 3:
        decimal = "."
    else:
        decimal = ""
    thousands = {",", "."} - {decimal}
    cleaned = "".join(ch for ch in num if ch not in thousands).replace(decimal or "\x00", ".")
    if not re.fullmatch(r"-?\d{1,18}(?:\.\d+)?", cleaned):  # "inf", "1e999999", a 40-digit number: kept as written
        return raw
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return raw
    whole = int(abs(amount))
    cents = abs(amount) - whole
    text = f"{whole:,}".replace(",", " ")
    if cents:
        text += "," + f"{cents:.2f}"[2:]
    return ("-" if amount < 0 else "") + text + (f" {sign}" if sign else "")


def _row_type(value: str) -> str:
    low = value.lower().replace("ё", "е")
    if "компан" in low or "company" in low:
        return "company"
    if "контакт" in low or "contact" in low:
        return "contact"
    if "сделк" in low or "deal" in low or "lead" in low or "лид" in low:
        return "deal"
    return ""


def _person(cols: Columns, row: list[str], entity: str) -> str:
    full = cols.value(row, "contact", entity)
    if full:
        return full
    parts = [cols.value(row, w, entity) for w in ("first", "middle", "last")]
    return " ".join(p for p in parts if p)


@dataclass
class Parsed:
    """The companies of a file, in first-seen order, and the rows that named none."""

    companies: list[Company]
    rows: int = 0
    skipped: int = 0


def companies(sheets: list[Sheet], name: str, fmt: str) -> Parsed:
    """Companies with their contacts and deals from the export's rows (one row per company, contact or deal,
    naming its company); sheets whose header names no company column are left out."""
    found: dict[str, Company] = {}
    parsed = Parsed([])
    headers: list[str] = []
    known = False
    for sheet in sheets:
        start = next((i for i, r in enumerate(sheet.rows[:HEADER_ROWS]) if Columns.of(r).knows()), None)
        if start is None:
            headers += [h for r in sheet.rows[:1] for h in r if h]
            continue
        known = True
        cols = Columns.of(sheet.rows[start])
        for row in sheet.rows[start + 1:]:
            if not any(row):
                continue
            parsed.rows += 1
            kind = _row_type(cols.value(row, "type"))
            own_name = cols.value(row, "name", kind) if kind else ""
            if not kind and not cols.value(row, "company") and cols.value(row, "name", "company"):
                kind, own_name = "company", cols.value(row, "name", "company")
            company = (own_name if kind == "company" else "") or cols.value(row, "company") or \
                cols.value(row, "name", "company")
            if not company:
                parsed.skipped += 1
                continue
            key = _folded(company)
            item = found.setdefault(key, Company(company))
            item.rows += 1
            if company not in item.spellings:
                item.spellings.append(company)
            responsible = cols.value(row, "responsible", kind or "deal")
            if kind == "company":
                if responsible:
                    item.responsible[responsible] += 100
                continue
            person = (own_name if kind == "contact" else "") or _person(cols, row, "contact")
            if person:
                entity = "contact"
                item.add_contact(Contact(person, cols.value(row, "position", entity),
                                         ", ".join(cols.values(row, "phone", entity)),
                                         ", ".join(cols.values(row, "email", entity))))
            deal = (own_name if kind == "deal" else "") or cols.value(row, "deal", "deal")
            if deal:
                item.add_deal(Deal(deal, money(cols.value(row, "amount", "deal"), cols.value(row, "currency", "deal"),
                                               cols.rouble),
                                   cols.value(row, "stage", "deal"), responsible,
                                   _date(cols.value(row, "created", "deal"))))
            if responsible:
                item.responsible[responsible] += 1
    if not known:
        seen = ", ".join(f"«{h}»" for h in dict.fromkeys(headers)) or "none"
        raise BadInput(f"{name} has no columns kb knows from a {FORMAT_NAMES[fmt]} export (columns found: "
                       f"{seen[:300]}); it needs a company column such as «Компания» or «Название компании» "
                       "(see the README)")
    if not found:
        raise BadInput(f"{name} has no rows naming a company")
    parsed.companies = list(found.values())
    return parsed


# -- writing the cards --------------------------------------------------------------------------------------------
def _escape(cell: str) -> str:
    return cell.replace("\\", "\\\\").replace("|", "\\|").strip()


def table(columns: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    head = list(columns)
    return (["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            + ["| " + " | ".join(_escape(c) for c in r) + " |" for r in rows])


def mark_line(fmt: str, today: dt.date) -> str:
    return (f"[//]: # ({MARK}: {fmt} {today.isoformat()}; kb пишет этот раздел при импорте из CRM, "
            "правки вручную заменит следующий импорт)")


@dataclass(frozen=True)
class Region:
    """Where a heading's section lies in a file's lines: [start, end), and whether kb's mark is in it."""

    start: int
    end: int
    marked: bool


def find_section(lines: list[str], heading: str) -> Region | None:
    """The level-2 section titled ``heading`` (case and ё folded), up to the next heading of any level;
    front matter and fenced code are skipped."""
    bounds = edits.front_matter_bounds(lines)
    i = bounds[1] + 1 if bounds else 0
    fence = ""
    want = _folded(heading)
    start: int | None = None
    for n in range(i, len(lines)):
        line = lines[n].rstrip("\r\n")
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
            continue
        if m:
            fence = m.group(1)
            continue
        h = _HEADING.match(line)
        if not h:
            continue
        if start is not None:
            return Region(start, n, any(_MARK_LINE.match(x) for x in lines[start:n]))
        if len(h.group(1)) == 2 and _folded(h.group(2)) == want:
            start = n
    if start is None:
        return None
    return Region(start, len(lines), any(_MARK_LINE.match(x) for x in lines[start:]))


def _body(lines: list[str]) -> list[str]:
    """A section's content lines as compared for "unchanged": no heading, mark or blank lines."""
    return [x.strip() for x in lines[1:] if x.strip() and not _MARK_LINE.match(x)]


def set_section(text: str, heading: str, rows: list[str], mark: str) -> str:
    """``text`` with kb's section ``heading`` holding ``rows`` (a table): replaced in place when the file has
    it, else added at the end. Nothing outside the section changes; when its table is already ``rows``
    the text is returned as it was (the mark's date included)."""
    nl = edits.newline_of(text)
    lines = text.splitlines(keepends=True)
    block = [f"## {heading}", "", mark, "", *rows]
    region = find_section(lines, heading)
    if region is None:
        return edits.append_block(text, "\n".join(block) + "\n")
    if not region.marked:
        raise BadInput(f"its section «{heading}» was written by hand (no «{MARK}» mark); kb leaves it alone: "
                       "rename that heading to let the import write its own")
    old = lines[region.start:region.end]
    if _body(old) == [r.strip() for r in rows]:
        return text
    trailing = 0
    for x in reversed(old):
        if x.strip():
            break
        trailing += 1
    tail = old[len(old) - trailing:] if trailing else ([nl] if region.end < len(lines) else [])
    new = [x + nl for x in block]
    return "".join(lines[:region.start] + new + tail + lines[region.end:])


def diff(rel: str, old: str | None, new: str) -> str:
    return "".join(difflib.unified_diff(
        (old or "").splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile="/dev/null" if old is None else f"a/{rel}", tofile=f"b/{rel}"))


# -- the import ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileChange:
    """What an import does to one client card."""

    action: str  # created, updated, unchanged or skipped
    path: str
    client: str
    title: str
    company: str  # as the CRM names it
    contacts: int
    deals: int
    diff: str = ""
    reason: str = ""


@dataclass(frozen=True)
class CrmReport:
    """What an import did (or, with ``dry_run``, would do), file by file."""

    source: str
    format: str
    kind: str
    dry_run: bool
    rows: int
    skipped_rows: int
    files: tuple[FileChange, ...]
    reindexed: bool = False

    @property
    def changed(self) -> list[str]:
        return [f.path for f in self.files if f.action in (CREATED, UPDATED)]

    def counts(self) -> dict[str, int]:
        return {a: sum(1 for f in self.files if f.action == a) for a in (CREATED, UPDATED, UNCHANGED, SKIPPED)}

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "files": [asdict(f) for f in self.files], "changed": self.changed,
                "counts": self.counts()}

    def text(self, diffs: bool | None = None) -> str:
        """The report for people: a summary line, a line per card and (dry run by default) the diffs."""
        c = self.counts()
        head = (f"{FORMAT_NAMES[self.format]} {self.kind.upper()} {self.source}: {self.rows} rows, "
                f"{c[CREATED]} created, {c[UPDATED]} updated, {c[UNCHANGED]} unchanged, {c[SKIPPED]} skipped")
        if self.skipped_rows:
            head += f"; {self.skipped_rows} rows name no company"
        head += " (dry run: nothing written)" if self.dry_run else (" — reindexed" if self.reindexed else "")
        out = [head]
        for f in self.files:
            what = f"{f.contacts} contacts, {f.deals} deals"
            if f.action == SKIPPED:
                out.append(f"  skipped    «{f.company}»: {f.reason}")
            else:
                out.append(f"  {f.action:<10} {f.path}  ({f.client}: «{f.company}», {what})")
        if diffs if diffs is not None else self.dry_run:
            out += [f.diff.rstrip("\n") for f in self.files if f.diff]
        return "\n".join(out)


def _owners(kb: KnowledgeBase) -> list[str]:
    return list(dict.fromkeys(d.owner for d in kb.store().documents() if d.owner))


def content_owner(crm_name: str, owners: list[str]) -> str:
    """The owner string the content uses for the CRM's «Ответственный» ("Соколов Дмитрий" ->
    "Дмитрий Соколов (d.sokolov@…)"): same e-mail, or the same two or more name words in any order."""
    if not crm_name:
        return ""
    key = owner_key(crm_name)
    said = {fold(w) for w in words(owner_name(crm_name))}
    found = []
    for owner in owners:
        if "@" in key and owner_key(owner) == key:
            return owner
        theirs = {fold(w) for w in words(owner_name(owner))}
        if min(len(said), len(theirs)) >= 2 and (said <= theirs or theirs <= said):
            found.append(owner)
    distinct = {owner_key(o) for o in found}
    return found[0] if len(distinct) == 1 else " ".join(crm_name.split())


@dataclass
class _Target:
    """A card the import writes: an existing one (``path``) or a new one, and the companies that go there."""

    client: str
    path: str
    title: str
    new: bool
    items: list[Company] = field(default_factory=list)
    reason: str = ""


def _merge(items: list[Company]) -> Company:
    out = Company(items[0].name)
    for c in items:
        out.spellings += [s for s in c.spellings if s not in out.spellings]
        out.rows += c.rows
        out.responsible.update(c.responsible)
        for contact in c.contacts.values():
            out.add_contact(contact)
        for deal in c.deals.values():
            out.add_deal(deal)
    return out


def _readable(meta: dict[str, Any], groups: frozenset[str] | None) -> bool:
    access = meta.get("access") or []
    return groups is None or not access or bool(set(access) & groups)


def _said(text: str) -> list[str]:
    """A company name's words as names are compared, without legal forms (Latin "OOO" too) and stopwords."""
    forms = {fold(f) for f in LEGAL_FORMS}
    return list(dict.fromkeys(f for w in words(text) if w not in LEGAL_FORMS and w not in STOPWORDS
                              and (f := fold(w)) not in forms))


def _covers(name: Name, said: list[str]) -> bool:
    """Whether one way of writing ``name`` and the company's words match each other word for word."""
    return bool(said) and any(
        all(any(similarity(w, s) >= TYPO for s in spelling) for w in said)
        and all(any(similarity(w, s) >= TYPO for w in said) for s in spelling)
        for spelling in name.spellings)


def resolve(names: Names, company: str) -> tuple[str, str]:
    """The client card a CRM company is: ``(client id, "")``; ``("", "")`` when no card names it (a new
    client); or a reason to leave it alone. The company's words and one way of writing a client's name
    (title, quoted name, id, aliases) must match each other word for word, after the client-name resolution
    of questions (legal forms, quotes, Latin letters, ё, one typo); a name that only shares words with a
    client («Горизонт Плюс» and «Горизонт») is reported, never written into that card."""
    said = _said(company)
    if not said:
        return "", "the name has nothing but a legal form"
    full = [n.id for n in names.names if n.kind == "client" and _covers(n, said)]
    if len(full) == 1:
        return full[0], ""
    if full:
        return "", (f"names several clients equally ({', '.join(sorted(full))}); kb does not guess: give the "
                    "company its full name in the CRM")
    match = names.match(company)
    if match.candidates:
        which = ", ".join(f"{names.title(c)} ({c})" for c in match.candidates)
        return (match.client, f"only partly matches {which}; to import into that card, add «{company}» to its "
                "front matter aliases; for a client of its own, create its card first (kb new client)")
    return "", ""


def _targets(kb: KnowledgeBase, parsed: Parsed, groups: frozenset[str] | None) -> list[_Target]:
    store = kb.store()
    docs = store.documents()
    names = Names.from_store(store)
    cards = {d.client: d for d in sorted(docs, key=lambda d: (d.path != f"clients/{d.client}.md", d.path))
             if d.type == "client" and d.client}
    targets: dict[str, _Target] = {}
    skipped: list[_Target] = []
    for company in parsed.companies:
        client, reason = resolve(names, company.name)
        if reason:
            skipped.append(_Target("", "", company.name, False, [company], reason))
            continue
        if client:
            card = cards.get(client)
            if card is None:
                skipped.append(_Target(client, "", company.name, False, [company],
                                       f"names {client}, which has no client card"))
                continue
            if not _readable(card.meta, groups):
                skipped.append(_Target("", "", company.name, False, [company],
                                       "its client card is restricted to groups you are not in"))
                continue
            t = targets.setdefault(card.path, _Target(card.client, card.path, card.title, False))
            t.items.append(company)
            continue
        title = " ".join(company.name.split())
        client = authoring.slug(title, drop_legal_forms=True)
        if not client:
            skipped.append(_Target("", "", title, False, [company],
                                   "cannot make a client id from this name (no letters or digits)"))
            continue
        rel = authoring.default_path("client", title, client)
        indexed = store.document(rel)
        if indexed is not None and not _readable(indexed.meta, groups):
            skipped.append(_Target("", "", company.name, False, [company],
                                   "its client card is restricted to groups you are not in"))
            continue
        t = targets.setdefault(rel, _Target(client, rel, title, True))
        t.items.append(company)
    return list(targets.values()) + skipped


def _plan(kb: KnowledgeBase, target: _Target, fmt: str, owner: str, owners: list[str],
          today: dt.date) -> tuple[FileChange, str | None, str, bool]:
    """The change to one card: (what the report says, the old text or None for a new file, the new text,
    whether the old file began with a byte-order mark)."""
    company = _merge(target.items)
    said = company.name if len(company.spellings) == 1 else " / ".join(company.spellings)
    contacts, deals = company.sorted_contacts(), company.sorted_deals()

    def skip(reason: str) -> tuple[FileChange, None, str, bool]:
        return FileChange(SKIPPED, target.path, target.client, target.title, said, len(contacts), len(deals),
                          reason=reason), None, "", False

    if target.reason:
        return skip(target.reason)
    file = edits.target(kb.settings.content_dir, target.path)
    old: str | None = None
    bom = False
    if file.exists():
        old, bom = edits.read_text(file)
        if target.new:
            meta = parse(old, target.path).meta
            if meta.type != "client":
                return skip(f"{target.path} exists and is not a client card")
    if old is None:
        top = company.responsible.most_common(1)
        who = content_owner(top[0][0], owners) if top else ""
        who = who or " ".join(owner.split())
        if not who:
            return skip("a new card needs an owner: the rows name no «Ответственный»; give a default owner")
        text = authoring.render("client", target.title, who, today, target.client)
    else:
        text = old
    mark = mark_line(fmt, today)
    try:
        if contacts:
            text = set_section(text, CONTACTS_HEADING, table(CONTACT_COLUMNS, (c.cells() for c in contacts)), mark)
        if deals:
            text = set_section(text, DEALS_HEADING, table(DEAL_COLUMNS, (d.cells() for d in deals)), mark)
    except BadInput as exc:
        return skip(f"{target.path}: {exc}")
    action = CREATED if old is None else UNCHANGED if text == old else UPDATED
    change = FileChange(action, target.path, target.client, target.title, said, len(contacts), len(deals),
                        diff(target.path, old, text) if action != UNCHANGED else "")
    return change, old, text, bom


def import_crm(kb: KnowledgeBase, data: bytes, fmt: str, name: str = "", dry_run: bool = False,
               owner: str = "", groups: frozenset[str] | None = None, today: dt.date | None = None) -> CrmReport:
    """Create or update client cards from a CRM export's bytes; ``dry_run`` writes nothing and returns the
    diffs. ``owner`` owns new cards whose rows name no «Ответственный»; ``groups`` are the editor's (None: all),
    cards restricted to others are skipped. After a real import that changed a card: one reindex."""
    if fmt not in FORMATS:
        raise BadInput(f"unknown CRM format {fmt!r} (expected one of {', '.join(FORMATS)})")
    name = " ".join(name.split()) or "upload"
    kind, sheets = read_table(data, name, kb.settings.max_file_bytes)
    parsed = companies(sheets, name, fmt)
    day = today or kb.clock()
    owners = _owners(kb)
    changes: list[FileChange] = []
    with kb.content_lock:
        planned = [_plan(kb, t, fmt, owner, owners, day) for t in _targets(kb, parsed, groups)]
        if not dry_run:
            for change, _, text, bom in planned:
                if change.action in (CREATED, UPDATED):
                    edits.write_text(edits.target(kb.settings.content_dir, change.path), text, bom)
        changes = [c for c, _, _, _ in planned]
    order = {CREATED: 0, UPDATED: 1, UNCHANGED: 2, SKIPPED: 3}
    changes.sort(key=lambda c: (order[c.action], c.path, c.company))
    written = not dry_run and any(c.action in (CREATED, UPDATED) for c in changes)
    if written:
        kb.reindex()
    return CrmReport(name, fmt, kind, dry_run, parsed.rows, parsed.skipped, tuple(changes), written)


def import_crm_file(kb: KnowledgeBase, path: Path, fmt: str, dry_run: bool = False, owner: str = "",
                today: dt.date | None = None) -> CrmReport:
    """:func:`import_crm` on a file: its size is checked before it is read."""
    try:
        size = path.stat().st_size
        check_size(size, path.name, kb.settings.max_file_bytes)
        with open(path, "rb") as fh:
            data = fh.read(kb.settings.max_file_bytes + 1)
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    return import_crm(kb, data, fmt, path.name, dry_run, owner, None, today)

