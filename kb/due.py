"""What is due for each client, read against today: overdue, due within a window, later, done.

An item is overdue when its date has passed, it is a promise, a notice deadline, an open question or a
document's expiry, and no line of the client's documents says it was done (a line with a word such as
«выполнено», «отправлено», "done" that shares at least two topic words with it). Past events and contract
ends are history, not tasks.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from kb.asked import value_terms
from kb.dates import EXPIRY, NOTICE, OPEN_QUESTION, PROMISE, Dated, Statement
from kb.text import content_stems, topical

OVERDUE, DUE, LATER, DONE, PAST = "overdue", "due", "later", "done", "past"
STATUS_ORDER = (OVERDUE, DUE, LATER, DONE, PAST)
TASKS = frozenset({PROMISE, NOTICE, OPEN_QUESTION, EXPIRY})
_DONE = re.compile(r"\b(?:выполнен[оаы]?|сделан[оаы]?|отправлен[оаы]?|подписан[оаы]?|запущен[оаы]?|закрыт[оаы]?|"
                   r"согласован[оаы]?|получен[оаы]?|настроен[оаы]?|проведен[оаы]?|проведён|передан[оаы]?|готово|"
                   r"done|sent|signed|completed|launched|closed|delivered|resolved)\b", re.IGNORECASE)


@dataclass(frozen=True)
class DueItem:
    """A dated item of a client, its status today and how many days from today (negative: past)."""

    item: Dated
    client: str
    title: str
    owner: str
    status: str
    days: int
    done: str = ""  # the line that says it was done

    def as_dict(self) -> dict[str, object]:
        return {**self.item.as_dict(), "client": self.client, "title": self.title, "owner": self.owner,
                "status": self.status, "days": self.days, "done": self.done}


def _topic(text: str) -> set[str]:
    """The longer topic words of a line (short ones such as "day" or "год" join unrelated lines)."""
    return {t for t in topical(sorted(content_stems(text))) if len(t) >= 5} - value_terms(text)


def done_by(item: Dated, lines: list[Statement]) -> str:
    """The line that says ``item`` was done: the item's own, or another sharing two topic words with it."""
    if _DONE.search(item.text):
        return item.text
    topic = _topic(item.text)
    for line in lines:
        if line.text != item.text and _DONE.search(line.text) and len(topic & _topic(line.text)) >= 2:
            return line.text
    return ""


def status(item: Dated, today: dt.date, within: int, lines: list[Statement]) -> tuple[str, str]:
    """The item's status today and, when done, the line that says so."""
    if item.kind in TASKS:
        done = done_by(item, lines)
        if done:
            return DONE, done
    if item.date < today:
        return (OVERDUE if item.kind in TASKS else PAST), ""
    return (DUE if (item.date - today).days <= within else LATER), ""


def sort_key(item: DueItem) -> tuple[int, dt.date]:
    return STATUS_ORDER.index(item.status), item.item.date


@dataclass(frozen=True)
class ClientDue:
    client: str
    title: str
    items: tuple[DueItem, ...]

    def as_dict(self) -> dict[str, object]:
        return {"client": self.client, "title": self.title, "items": [i.as_dict() for i in self.items]}


@dataclass(frozen=True)
class OwnerDue:
    owner: str
    clients: tuple[ClientDue, ...]

    def as_dict(self) -> dict[str, object]:
        return {"owner": self.owner, "clients": [c.as_dict() for c in self.clients]}


def by_owner(items: list[DueItem]) -> list[OwnerDue]:
    """Items grouped by owner, then client; owners and clients with something overdue first, then by name."""
    owners: dict[str, dict[str, list[DueItem]]] = {}
    for item in items:
        owners.setdefault(item.owner, {}).setdefault(item.client, []).append(item)

    def urgency(group: list[DueItem]) -> tuple[int, dt.date]:
        return min(sort_key(i) for i in group)

    out = []
    for owner, clients in owners.items():
        groups = [ClientDue(c, g[0].title, tuple(sorted(g, key=sort_key))) for c, g in clients.items()]
        groups.sort(key=lambda c: (urgency(list(c.items)), c.title.lower()))
        out.append(OwnerDue(owner, tuple(groups)))
    out.sort(key=lambda o: (urgency([i for c in o.clients for i in c.items]), o.owner.lower()))
    return out
