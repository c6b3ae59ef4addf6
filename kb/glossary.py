"""Words people use for what the documents call otherwise: slang, abbreviations, short first names.

A question is searched in the documents' own words ("срм норд на одного юзера" as "CRM норд на одного
пользователь"), so both the keyword and the meaning search find the section. Two sources:
- the everyday Russian business slang below, true of any sales team's speech;
- the content's own front matter ``aliases:`` as a mapping, on a glossary, a team page or any document:
  ``aliases: {"дополнительное соглашение": [дс, допник], "Елена Кузнецова": [Лена Кузнецова]}``.
A variant matches a word of the question by its stem, so declined forms count ("Лену", "юзера"); a variant
the index never saw is replaced, one it knows (cards write "ДС" too) is kept and the term added.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from kb.store import DocumentRow
from kb.text import stem

_WORD = re.compile(r"\w+", re.UNICODE)

# Everyday Russian business speech: what people type -> the word documents use.
SLANG: dict[str, tuple[str, ...]] = {
    "CRM": ("срм", "црм"),
    "пользователь": ("юзер", "юзеры", "юзверь"),
    "дополнительное соглашение": ("дс", "допник", "допсоглашение", "допсоглашения"),
    "коммерческое предложение": ("кп",),
    "спецификация": ("спека", "спецификашка", "спеки"),
    "лицензия": ("лицуха", "лицухи", "лицензуха"),
    "сколько": ("скок", "скока", "скоко", "сколко"),
    "главный бухгалтер": ("главбух", "главбуха"),
    "генеральный директор": ("гендир", "гендиректор"),
    "финансовый директор": ("финдир", "финдиректор"),
    "коммерческий директор": ("комдир", "коммдир"),
    "техническое задание": ("тз",),
    "пусконаладка": ("пнр", "пусконаладочные работы"),
    "Санкт-Петербург": ("питер", "спб", "питерские", "питерский", "питерская"),
    "Москва": ("мск", "московские"),
    "эскалировать": ("эскалирвать", "эскалировть", "эскалирывать"),
    "P1": ("п1",), "P2": ("п2",), "P3": ("п3",), "P4": ("п4",),
}


def _key(variant: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in _WORD.findall(variant.lower()))

# What a sales knowledge base written in Russian calls the things an English question asks about: the fields of
# client cards, contracts, policies and price lists any distributor or vendor keeps. An English question about a
# Russian card shares no word with it; these give its keyword search, and the evidence its answer is judged by,
# the card's own words (the meaning search needs none).
FIELDS_EN: dict[str, str] = {
    "payment": "оплата платеж", "pay": "оплата платеж", "deferral": "отсрочка", "deferred": "отсрочка",
    "payment terms": "условия оплаты отсрочка", "prepayment": "предоплата", "advance": "аванс предоплата",
    "credit limit": "кредитный лимит", "invoice": "счет", "currency": "валюта", "rouble": "рубль",
    "discount": "скидка", "price": "цена прайс", "cost": "стоимость цена", "charge": "стоимость расценки",
    "rate": "расценки ставка", "price list": "прайс", "price increase": "индексация", "indexation": "индексация",
    "contract": "договор", "agreement": "договор соглашение", "addendum": "дополнительное соглашение",
    "specification": "спецификация", "act": "акт", "signs": "подписывает", "sign": "подписывает подпись",
    "signatory": "подписывает", "power of attorney": "доверенность", "expire": "действует окончание",
    "renewal": "продление", "renew": "продление", "termination": "расторжение",
    "delivery": "поставка доставка", "deliver": "поставка доставка", "shipment": "отгрузка", "ship": "отгрузка",
    "lead time": "срок поставки", "stage": "этап", "warehouse": "склад", "logistics": "логистика",
    "warranty": "гарантия", "guarantee": "гарантия", "defect": "брак", "complaint": "рекламация",
    "claim": "рекламация претензия", "return": "возврат", "penalty": "неустойка штраф",
    "installation": "монтаж", "commissioning": "пусконаладка ПНР", "commission": "пусконаладка ПНР",
    "service": "сервис обслуживание", "service plan": "тариф сервисный контракт", "maintenance": "обслуживание",
    "response time": "время реакции", "emergency": "авария аварийный", "ticket": "заявка", "priority": "приоритет",
    "escalation": "эскалация", "escalate": "эскалация", "visit": "выезд визит", "pass": "пропуск",
    "contact": "контакты", "contacts": "контакты", "phone": "телефон", "email": "почта e-mail",
    "director": "директор", "general director": "генеральный директор", "ceo": "генеральный директор",
    "chief engineer": "главный инженер", "engineer": "инженер", "accountant": "бухгалтер",
    "chief accountant": "главный бухгалтер", "procurement": "закупки снабжение", "purchasing": "закупки снабжение",
    "supply": "снабжение поставка", "suppliers": "поставщики", "lawyer": "юрист", "decision maker": "ЛПР",
    "account manager": "менеджер КАМ", "manager": "менеджер", "owner": "ответственный владелец",
    "approve": "согласует", "approves": "согласует", "approval": "согласование", "replaces": "замещает",
    "covers": "замещает", "away": "отпуск отсутствие", "vacation": "отпуск",
    "partner": "партнер", "level": "уровень", "turnover": "оборот", "revenue": "выручка оборот",
    "volume": "объем", "order": "заказ", "budget": "бюджет", "tender": "тендер", "competitor": "конкурент",
    "risk": "риски", "risks": "риски", "history": "история", "promised": "обещали", "promise": "обещали",
    "next call": "следующий звонок", "call": "звонок", "meeting": "встреча", "proposal": "предложение КП",
    "quote": "коммерческое предложение КП", "demo": "демо", "training": "обучение",
    "license": "лицензия", "licence": "лицензия",
    "subscription": "подписка", "user": "пользователь", "edition": "редакция", "module": "модуль",
    "datasheet": "характеристики", "model": "модель", "power": "мощность", "efficiency": "КПД",
    "weight": "масса вес", "size": "габариты размер", "export": "экспорт", "import": "ввоз импорт",
    "vat": "НДС", "tax": "налог НДС", "customs": "таможня",
    "bronze": "бронзовый", "silver": "серебряный", "gold": "золотой", "platinum": "платиновый",
}


class Glossary:
    """Variants (as stems) and the words the documents use for them."""

    def __init__(self, entries: Mapping[str, Iterable[str]]) -> None:
        self._map: dict[tuple[str, ...], str] = {}
        self._variants: dict[str, list[str]] = {}
        for term, variants in entries.items():
            for variant in variants:
                key = _key(variant)
                if key and key != _key(term):
                    self._map[key] = term
                    self._variants.setdefault(term, []).append(variant)
        self._longest = max((len(k) for k in self._map), default=0)

    @classmethod
    def from_documents(cls, docs: Iterable[DocumentRow]) -> Glossary:
        """The built-in slang and every document's front matter ``aliases:`` mapping."""
        entries: dict[str, list[str]] = {t: list(v) for t, v in SLANG.items()}
        for d in docs:
            aliases = d.meta.get("aliases")
            if isinstance(aliases, dict):
                for term, variants in aliases.items():
                    found = [variants] if isinstance(variants, str) else list(variants or [])
                    entries.setdefault(str(term), []).extend(str(v) for v in found)
        return cls(entries)

    def knows(self, word: str) -> bool:
        """Whether ``word`` is a variant the glossary has a term for ("юзера", "допник")."""
        return (stem(word.lower()),) in self._map

    @staticmethod
    def translate(text: str) -> str:
        """The Russian words of the fields an English ``text`` asks about (``FIELDS_EN``), longest phrase first;
        "" when it names none."""
        return " ".join(dict.fromkeys(russian for _, russian in Glossary.fields(text)))

    @staticmethod
    def fields(text: str) -> list[tuple[tuple[str, ...], str]]:
        """The fields an English ``text`` asks about, longest phrase first: each as the stems it is said with and
        the Russian words for it ("payment terms" -> (("payment", "term"), "условия оплаты отсрочка"))."""
        said = [stem(w) for w in _WORD.findall(text.lower())]
        out: list[tuple[tuple[str, ...], str]] = []
        i = 0
        while i < len(said):
            for size in (3, 2, 1):
                found = _FIELDS.get(key := tuple(said[i : i + size]))
                if found:
                    out.append((key, found))
                    i += size
                    break
            else:
                i += 1
        return out

    def forms(self, word: str) -> list[str]:
        """Every way the glossary writes what ``word`` names: its term and the term's variants ("питерская" ->
        "Санкт-Петербург", "питер", "спб"); empty for a word it does not know."""
        key = (stem(word.lower()),)
        term = self._map.get(key) or next((t for t in self._variants if _key(t) == key), None)
        return [term, *self._variants.get(term, [])] if term else []

    def expand(self, text: str, known: Callable[[str], bool] = lambda _: False) -> str:
        """``text`` in the documents' words: a variant the index never saw ("юзера") is replaced by the documents'
        word for it; one it knows ("ДС", which cards use too) stays, with that word added at the end."""
        spans = [(m.start(), m.end(), stem(m.group(0).lower())) for m in _WORD.finditer(text)]
        out: list[str] = []
        added: list[str] = []
        cursor = i = 0
        while i < len(spans):
            for size in range(min(self._longest, len(spans) - i), 0, -1):
                term = self._map.get(tuple(s for _, _, s in spans[i : i + size]))
                if term is None:
                    continue
                start, end = spans[i][0], spans[i + size - 1][1]
                if all(known(s) for _, _, s in spans[i : i + size]):
                    added.append(term)
                else:  # the term, and the other short forms the documents do use ("допник" -> "… (ДС)")
                    used = [v for v in self._variants.get(term, []) if all(known(s) for s in _key(v))]
                    out.append(text[cursor:start] + term + (f" ({', '.join(dict.fromkeys(used))})" if used else ""))
                    cursor = end
                i += size
                break
            else:
                i += 1
        out.append(text[cursor:])
        result = "".join(out)
        extra = [t for t in dict.fromkeys(added) if t.lower() not in result.lower()]
        return f"{result} ({', '.join(extra)})" if extra else result


_FIELDS = {tuple(stem(w) for w in _WORD.findall(phrase)): russian for phrase, russian in FIELDS_EN.items()}
