"""Templates for new documents: valid front matter and the standard headings, ready to fill.

Hints for the writer are Markdown comments (``[//]: # (...)``): visible in the editor, never shown
to readers and never indexed. The client card's headings are the brief's (kb/brief.py), so what a
manager fills in is what the brief shows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from kb.edits import target, write_text
from kb.errors import BadInput
from kb.names import LEGAL_FORMS

_RU_LATIN = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
     "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
))
_SAFE_SCALAR = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^#]*")


def slug(text: str, drop_legal_forms: bool = False) -> str:
    """A file-name-safe id: Latin letters, digits and dashes ("ООО «Ромашка»" -> "romashka")."""
    words = re.findall(r"\w+", text.lower().replace("_", " "))
    if drop_legal_forms:
        words = [w for w in words if w not in LEGAL_FORMS] or words
    latin = "-".join("".join(_RU_LATIN.get(ch, ch) for ch in w) for w in words)
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "", latin)).strip("-")[:80]


def yaml_scalar(value: str) -> str:
    """``value`` as a YAML scalar: bare when that reads back the same, else double-quoted."""
    if _SAFE_SCALAR.fullmatch(value) and ": " not in value and value == value.strip():
        return value
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Template:
    """What a new document of one type looks like."""

    type: str
    folder: str
    review_every: str
    lead: str
    sections: tuple[tuple[str, str], ...]


def _hint(text: str) -> str:
    return f"[//]: # ({text})"


TEMPLATES = {
    "client": Template("client", "clients", "90d",
                       "Кто они: отрасль, город, масштаб, с какого года клиент. Два-четыре предложения.", (
        ("## Контакты и роли", "Таблица: ФИО | Должность | Телефон | Email | Роль. Кто принимает решения."),
        ("### Кто подписывает акты", "Кто подписывает акты и УПД, как: ЭДО или бумага; кто замещает."),
        ("## Договор", "Номер и дата договора, срок, пролонгация, дополнительные соглашения."),
        ("## Условия оплаты", "Отсрочка в днях и от какой даты, аванс, валюта, пени. Один пункт списка на условие."),
        ("## Продукты", "Таблица: Продукт | Редакция | Объём | Годовая стоимость."),
        ("## Что обещали", "Каждое обещание отдельным пунктом: что, к какой дате, кто согласовал."),
        ("## Открытые вопросы", "Что клиент ждёт от нас и к какому сроку."),
        ("## Риски", "Что может помешать продлению или расширению."),
        ("## Предпочтения", "Как и когда связываться, формат встреч и документов."),
        ("## История", "ДД.ММ.ГГГГ - событие. Новые события внизу списка."),
    )),
    "product": Template("product", "products", "90d",
                        "Что это за продукт и для кого, в двух-трёх предложениях.", (
        ("## Редакции и цены", "Таблица: Редакция | Для кого | Цена за лицензию в год."),
        ("## Лицензирование", "Именные или конкурентные лицензии, тестовые стенды, ТСД."),
        ("## SLA", "Время реакции и решения по приоритетам, часы поддержки."),
        ("## Интеграции", "Один подраздел ### на систему: 1С, Bitrix24, REST API."),
        ("## Известные ограничения", "Чего продукт не умеет. Один пункт на ограничение."),
        ("## Системные требования", "Сервер, рабочие места, браузеры."),
    )),
    "policy": Template("policy", "policies", "180d", "Кого касается правило и зачем оно.", (
        ("## Правила", "Сами правила: один пункт списка на правило, с цифрами."),
        ("## Исключения и согласование", "Когда можно отступить от правил и кто согласует."),
        ("## Контакты", "К кому идти с вопросами."),
    )),
    "faq": Template("faq", "faq", "180d", "", (
        ("", "Каждый вопрос - заголовок второго уровня, ответ - одно-три предложения под ним."),
    )),
    "playbook": Template("playbook", "playbooks", "180d", "Когда применять этот сценарий.", (
        ("## Шаги", "Нумерованный список шагов."),
        ("## Типичные ошибки", "Что обычно идёт не так."),
    )),
}


def render(kind: str, title: str, owner: str, today: dt.date, client: str = "",
           products: tuple[str, ...] = ()) -> str:
    """The Markdown of a new document of type ``kind``."""
    if kind not in TEMPLATES:
        raise BadInput(f"no template for {kind!r} (expected one of {', '.join(TEMPLATES)})")
    if not title.strip() or "\n" in title:
        raise BadInput("a title is one non-empty line")
    if not owner.strip() or "\n" in owner:
        raise BadInput("every document needs an owner: name and e-mail, on one line")
    t = TEMPLATES[kind]
    front = [
        "---",
        f"title: {yaml_scalar(title.strip())}",
        f"type: {kind}",
        *([f"client: {yaml_scalar(client)}"] if client else []),
        f"products: [{', '.join(yaml_scalar(p) for p in products)}]",
        f"owner: {yaml_scalar(owner.strip())}",
        f"verified: {today.isoformat()}",
        f"review_every: {t.review_every}",
        "tags: []",
        "---",
    ]
    body = ["", f"# {title.strip()}", ""]
    if t.lead:
        body += [_hint(t.lead), ""]
    for heading, hint in t.sections:
        body += ([heading, ""] if heading else []) + [_hint(hint), ""]
    return "\n".join(front + body).rstrip("\n") + "\n"


def default_path(kind: str, title: str, client: str = "") -> str:
    name = client if kind == "client" and client else slug(title, drop_legal_forms=True)
    if not name:
        raise BadInput(f"cannot make a file name from {title!r}: give --path")
    return f"{TEMPLATES[kind].folder}/{name}.md" if kind in TEMPLATES else f"{name}.md"


def create(content_dir: Path, kind: str, title: str, owner: str, today: dt.date, client: str = "",
           products: tuple[str, ...] = (), path: str = "") -> str:
    """Write a new document from its template; returns its content-relative path. Never overwrites."""
    if kind == "client":
        client = client or slug(title, drop_legal_forms=True)
        if not client:
            raise BadInput(f"cannot make a client id from {title!r}: give --client")
    text = render(kind, title, owner, today, client, products)
    rel = path or default_path(kind, title, client)
    file = target(content_dir, rel)
    if file.exists():
        raise BadInput(f"{rel} already exists")
    write_text(file, text)
    return rel
