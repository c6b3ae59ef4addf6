"""Client and product names known to the index, found in free text ("у Ромашки", "Romashka", "Уралполмер").

A client is named by its title, the quoted name in it («Ромашка»), a name in brackets after it
("(Sapphire Inn)", "(УЗМК)"), its id, and the front matter ``aliases:`` of its documents. Words are
compared after folding case, ё and soft signs and reading Latin letters as Cyrillic, so "Zorka's" meets
«Зорька» and "Severstroy" meets «СеверСтрой»; a declined form ("Ромашке", "СеверСтроя") or one typo in a
long name ("Уралполмер") still matches, with a lower score. Several clients matching equally are
reported as such, never guessed between.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from kb.store import DocumentRow, Store
from kb.text import STOPWORDS, snowball, stem, to_cyrillic

_WORD = re.compile(r"\w+", re.UNICODE)
_QUOTED = re.compile(r"[«\"“„]([^»\"”“]+)[»\"”“]")
_INNER = re.compile(r"«([^«»]+)»")
_BRACKETS = re.compile(r"\(([^()]+)\)")
LEGAL_FORMS = frozenset(
    "ооо оао зао пао ао ип нко тд гк тоо llc llp ltd inc gmbh ag sa doo d o o co corp plc jsc".split()
)
EXACT, DECLINED, TYPO, PARTIAL = 1.0, 0.9, 0.8, 0.5


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("_", " "))


def fold(word: str) -> str:
    """A word as names are compared: lower case, Latin read as Cyrillic, ё as е, no soft or hard signs."""
    w = word.lower()
    if w.isascii() and w.isalpha():
        w = to_cyrillic(w)
    return w.replace("ё", "е").replace("ь", "").replace("ъ", "")


def _root(key: str) -> str:
    return snowball("russian", key)


def distance(a: str, b: str) -> int:
    """Edit distance with transpositions (optimal string alignment)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def similarity(said: str, name: str) -> float:
    """How well a folded word of the text matches a folded word of a name: 1 exact, 0.9 a declined form,
    0.8 one typo (two in a long name), 0 no match."""
    if said == name or (len(name) >= 5 and _root(said) == _root(name)):
        return EXACT
    common = len(next((said[:i] for i in range(min(len(said), len(name)), 0, -1) if said[:i] == name[:i]), ""))
    if common >= max(4, len(name) - 2) and len(said) <= len(name) + 3:
        return DECLINED
    a, b = _root(said), _root(name)
    if len(b) >= 5 and a.startswith(b):  # a word made from the name: "алматинцы", "ростовский"
        return TYPO
    if len(b) >= 8 and abs(len(a) - len(b)) <= 2 and distance(a, b) <= (2 if len(b) >= 11 else 1):
        return TYPO
    return 0.0


@dataclass(frozen=True)
class Name:
    """A client or product and the spellings that name it, each the folded words that must all occur."""

    kind: str
    id: str
    spellings: tuple[tuple[str, ...], ...]
    title: str = ""
    places: tuple[str, ...] = ()  # folded tag words: tell apart clients whose names match equally
    tags: tuple[str, ...] = ()  # every folded tag word, short ones too ("спб")


@dataclass(frozen=True)
class Match:
    """Who a text names: one client, several equally (``candidates``), or none; and the words that named them."""

    client: str = ""
    candidates: tuple[str, ...] = ()
    words: frozenset[str] = field(default_factory=frozenset)
    score: float = 0.0


def _spelling(text: str) -> tuple[str, ...]:
    ws = [w for w in words(text) if w not in LEGAL_FORMS]
    long = [w for w in ws if len(w) >= 2]
    return tuple(dict.fromkeys(fold(w) for w in (long or ws)))


_CAMEL = re.compile(r"[A-ZА-ЯЁ][a-zа-яё]+")


def acronyms(name: str) -> list[str]:
    """Initials a name may go by: of its capitalised parts ("СеверСтройМонтаж" -> "ССМ") or of its words
    ("Уральский завод металлоконструкций" -> "УЗМ")."""
    parts = _CAMEL.findall(name)
    long = [w for w in name.split() if len(w) >= 3 and w.lower() not in LEGAL_FORMS]
    found = ["".join(p[0] for p in parts).upper() if len(parts) >= 2 else "",
             "".join(w[0] for w in long).upper() if len(long) >= 2 else ""]
    return [a for a in dict.fromkeys(found) if len(a) >= 2]


def spellings(title: str, ident: str, aliases: Iterable[str] = (),
              tags: Iterable[str] = ()) -> tuple[tuple[str, ...], ...]:
    """How a name may be written: the quoted names of its title, the title itself, a name in brackets (not a
    place from the tags: "(Kazakhstan)"), the id (Latin, read as Cyrillic too), and the aliases."""
    places = {fold(w) for t in tags for w in words(t)}
    bracketed = [b for b in _BRACKETS.findall(title) if not {fold(w) for w in words(b)} <= places]
    candidates = [*_INNER.findall(title), *_QUOTED.findall(title), _BRACKETS.sub(" ", title), *bracketed,
                  " ".join(w for w in re.split(r"[-_\s.]+", ident.lower()) if w), *aliases]
    found: list[tuple[str, ...]] = []
    for candidate in candidates:
        s = _spelling(candidate)
        if s and s not in found:
            found.append(s)
    return tuple(found)


def _aliases(meta: dict[str, object]) -> list[str]:
    value = meta.get("aliases")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()]
    return []


class Names:
    """The names to look for, built from the index's document metadata."""

    def __init__(self, names: Iterable[Name]) -> None:
        self.names = tuple(names)
        clients = [n for n in self.names if n.kind == "client"]
        # How many clients' names share a word: "ЛогистПарк" alone names two clients, "Восток" one.
        self._shared = Counter(w for n in clients for w in {w for s in n.spellings for w in s})

    @classmethod
    def from_documents(cls, docs: Iterable[DocumentRow], texts: dict[str, str] | None = None) -> Names:
        """Clients from their client cards (and the aliases of all their documents); products from the product
        page named after the product id.

        ``texts`` (a client's documents' text by client id) lets a client go by the initials of its name where
        its own documents use them ("ССМ" for «СеверСтройМонтаж»).
        """
        docs = list(docs)
        extra: dict[str, list[str]] = {}
        for d in docs:
            if d.client:
                extra.setdefault(d.client, []).extend(_aliases(d.meta))
                if d.type == "client" and texts and d.client in texts:
                    said = set(re.findall(r"\b[A-ZА-ЯЁ]{2,}\b", texts[d.client]))
                    named = [*_INNER.findall(d.title), *_QUOTED.findall(d.title)]
                    extra[d.client] += [a for n in named for a in acronyms(n) if a in said]
        found: dict[tuple[str, str], Name] = {}
        for d in docs:
            if d.type == "client" and d.client:
                tags = [str(t) for t in d.meta.get("tags") or []]
                found[("client", d.client)] = Name(
                    "client", d.client, spellings(d.title, d.client, extra.get(d.client, []), tags), d.title,
                    tuple(dict.fromkeys(fold(w) for t in tags for w in words(t) if len(w) >= 4)),
                    tuple(dict.fromkeys(fold(w) for t in tags for w in words(t))))
            products = d.meta.get("products") or []
            if d.type == "product" and len(products) == 1 and PurePosixPath(d.path).stem == products[0]:
                found[("product", products[0])] = Name(
                    "product", products[0], spellings(d.title, products[0], _aliases(d.meta)), d.title)
        return cls(found.values())

    @classmethod
    def from_store(cls, store: Store) -> Names:
        """The names of an index's documents, client cards' own text included (for initials)."""
        docs = store.documents()
        texts = {d.client: "\n".join(t for _, t in store.section_texts(d.id)) for d in docs if d.type == "client"}
        return cls.from_documents(docs, texts)

    def title(self, client: str) -> str:
        return next((n.title for n in self.names if n.kind == "client" and n.id == client), client)

    def _score(self, name: Name, said: list[str], partial: bool = True) -> tuple[float, set[str]]:
        """The best spelling's match: all its words found (the mean similarity), or only its first word, when
        that word is rare among names and not a common word (``PARTIAL``)."""
        best, used = 0.0, set()
        for spelling in name.spellings:
            quality: list[float] = []
            matched: set[str] = set()
            for word in spelling:
                sims = [(similarity(w, word), w) for w in said]
                top = max(sims, default=(0.0, ""))
                quality.append(top[0])
                if top[0]:
                    matched.add(top[1])
            if all(quality):
                score = sum(quality) / len(quality)
            elif (partial and quality[0] and len(spelling) > 1 and self._shared[spelling[0]] <= 2
                  and len(spelling[0]) >= 5):
                score = PARTIAL * quality[0]
            else:
                continue
            if score > best:
                best, used = score, matched
        return best, used

    def match(self, text: str, kind: str = "client") -> Match:
        """The client (or product) ``text`` names; equally good matches are told apart by the text's other words
        against the clients' places (tags), and reported as candidates when that does not settle it."""
        said = [fold(w) for w in words(text) if w not in STOPWORDS]
        scored = [(n, *self._score(n, said, kind == "client")) for n in self.names if n.kind == kind]
        scored = [s for s in scored if s[1] > 0]
        if not scored:
            return Match()
        top = max(s for _, s, _ in scored)
        tied = [(n, used) for n, s, used in scored if s >= top - 0.05]
        if len(tied) > 1:
            rest = [w for w in said if not any(w in used for _, used in tied)]
            placed = [(n, used) for n, used in tied if any(similarity(w, p) or w.startswith(p[:max(4, len(p) - 2)])
                                                           for p in n.places for w in rest)]
            if len(placed) == 1:
                tied = placed
        named = frozenset(w for _, used in tied for w in used)
        if len(tied) == 1:
            return Match(tied[0][0].id, (tied[0][0].id,), named, top)
        return Match("", tuple(sorted(n.id for n, _ in tied)), named, top)

    def find(self, text: str) -> list[Name]:
        said = [fold(w) for w in words(text)]
        return [n for n in self.names if self._score(n, said)[0] >= DECLINED * TYPO]

    def clients_in(self, text: str) -> set[str]:
        return set(self.match(text).candidates)

    def products_in(self, text: str) -> frozenset[str]:
        return frozenset(n.id for n in self.find(text) if n.kind == "product")

    def mask(self, text: str) -> str:
        """``text`` without the words that name a client or product (punctuation and other words kept)."""
        drop = set(self.match(text).words) | set(self.match(text, "product").words)
        if not drop:
            return text
        kept = _WORD.sub(lambda m: "" if fold(m.group(0)) in drop else m.group(0), text)
        masked = re.sub(r"\s{2,}", " ", kept).strip()
        return masked if words(masked) else text


__all__ = ["Match", "Name", "Names", "fold", "similarity", "spellings", "stem"]
