"""The bus factor: how well each client is covered by documents and owners, and how well kb answers on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kb.freshness import of_document
from kb.owners import distinct, owner_key
from kb.store import DocumentRow


@dataclass(frozen=True)
class ClientCoverage:
    """One client: its documents and their distinct owners, questions asked about it and answered."""

    client: str
    title: str
    documents: int
    owners: tuple[str, ...]
    asked: int
    answered: int
    stale: int

    @property
    def single_owner(self) -> bool:
        """Everything known about the client sits with one person (or nobody)."""
        return len(self.owners) <= 1

    def as_dict(self) -> dict[str, object]:
        return {"client": self.client, "title": self.title, "documents": self.documents, "owners": list(self.owners),
                "asked": self.asked, "answered": self.answered, "stale": self.stale,
                "single_owner": self.single_owner}


@dataclass(frozen=True)
class OwnerLoad:
    """A person and the clients only they cover."""

    owner: str
    clients: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"owner": self.owner, "clients": list(self.clients)}


def by_client(docs: Iterable[DocumentRow], asked: Mapping[str, tuple[int, int]],
              today: dt.date) -> list[ClientCoverage]:
    """Coverage of every client named in front matter, the least covered first."""
    per_client: dict[str, list[DocumentRow]] = {}
    for d in docs:
        if d.client:
            per_client.setdefault(d.client, []).append(d)
    out = []
    for client, items in per_client.items():
        card = next((d for d in items if d.type == "client"), items[0])
        n_asked, n_answered = asked.get(client, (0, 0))
        out.append(ClientCoverage(
            client=client, title=card.title, documents=len(items), owners=tuple(distinct(d.owner for d in items)),
            asked=n_asked, answered=n_answered, stale=sum(of_document(d, today).stale for d in items)))
    return sorted(out, key=lambda c: (len(c.owners), c.documents, c.title.lower()))


def sole_owners(coverage: Iterable[ClientCoverage]) -> list[OwnerLoad]:
    """Per owner, the clients that depend on them alone; the busiest first."""
    loads: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for c in coverage:
        if c.single_owner:
            owner = c.owners[0] if c.owners else ""
            key = owner_key(owner) if owner else ""
            names.setdefault(key, owner)
            loads.setdefault(key, []).append(c.client)
    return sorted((OwnerLoad(names[k], tuple(v)) for k, v in loads.items()),
                  key=lambda o: (-len(o.clients), o.owner.lower()))
