"""Client and product names known to the index, found in free text ("у Ромашки", "Romashka", "CRM Норд").

A name matches when every word of one of its spellings occurs (compared by stem). Questions are
attributed to the client they name, and names are masked before questions are compared by meaning:
otherwise "Ромашка" outweighs what is asked about her.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from kb.store import DocumentRow
from kb.text import stem, to_cyrillic

_WORD = re.compile(r"\w+", re.UNICODE)
_QUOTED = re.compile(r"[«\"“„]([^»\"”“]+)[»\"”“]")
LEGAL_FORMS = frozenset(
    "ооо оао зао пао ао ип нко тд гк llc llp ltd inc gmbh ag sa doo d o o co corp plc jsc".split()
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("_", " "))


@dataclass(frozen=True)
class Name:
    """A client or product and the spellings that name it, each a set of stems that must all occur."""

    kind: str
    id: str
    spellings: tuple[frozenset[str], ...]


def _spelling(text: str) -> frozenset[str]:
    ws = [w for w in words(text) if w not in LEGAL_FORMS]
    long = [w for w in ws if len(w) >= 3]
    return frozenset(stem(w) for w in (long or ws))


def spellings(title: str, ident: str) -> tuple[frozenset[str], ...]:
    """How a name may be written: its quoted or bare title, its id in Latin and read back in Cyrillic."""
    found: list[frozenset[str]] = []
    quoted = _QUOTED.search(title)
    id_words = [w for w in re.split(r"[-_\s.]+", ident.lower()) if w]
    for candidate in (quoted.group(1) if quoted else "", re.sub(r"\(.*?\)|—.*$", "", title), " ".join(id_words),
                      " ".join(to_cyrillic(w) for w in id_words if w.isascii() and w.isalpha())):
        s = _spelling(candidate)
        if s and s not in found:
            found.append(s)
    return tuple(found)


class Names:
    """The names to look for, built from the index's document metadata."""

    def __init__(self, names: Iterable[Name]) -> None:
        self.names = tuple(names)

    @classmethod
    def from_documents(cls, docs: Iterable[DocumentRow]) -> Names:
        """Clients from their client cards; products from the product page named after the product id."""
        found: dict[tuple[str, str], Name] = {}
        for d in docs:
            if d.type == "client" and d.client:
                found[("client", d.client)] = Name("client", d.client, spellings(d.title, d.client))
            products = d.meta.get("products") or []
            if d.type == "product" and len(products) == 1 and PurePosixPath(d.path).stem == products[0]:
                found[("product", products[0])] = Name("product", products[0], spellings(d.title, products[0]))
        return cls(found.values())

    def find(self, text: str) -> list[Name]:
        stems = {stem(w) for w in words(text)}
        return [n for n in self.names if any(s <= stems for s in n.spellings)]

    def clients_in(self, text: str) -> set[str]:
        return {n.id for n in self.find(text) if n.kind == "client"}

    def products_in(self, text: str) -> frozenset[str]:
        return frozenset(n.id for n in self.find(text) if n.kind == "product")

    def mask(self, text: str) -> str:
        """``text`` without the words of the names it mentions (punctuation and other words kept)."""
        hits = self.find(text)
        if not hits:
            return text
        drop = {s for n in hits for spelling in n.spellings for s in spelling}
        kept = _WORD.sub(lambda m: "" if stem(m.group(0).lower()) in drop else m.group(0), text)
        masked = re.sub(r"\s{2,}", " ", kept).strip()
        return masked if words(masked) else text
