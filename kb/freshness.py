"""When a document is due for review: front matter ``verified`` plus ``review_every`` (default 180 days)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from kb.owners import owner_key
from kb.store import DocumentRow

DEFAULT_REVIEW_DAYS = 180
_PERIOD = re.compile(r"^\s*(\d{1,5})\s*(d|w|m|y|days?|weeks?|months?|years?)?\s*$", re.IGNORECASE)
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def review_days(review_every: str) -> int | None:
    """Days in a review period such as "90d", "12w", "6m", "1y" or "90"; None when it cannot be read."""
    m = _PERIOD.match(str(review_every))
    if not m or int(m.group(1)) == 0:
        return None
    return int(m.group(1)) * _UNIT_DAYS[(m.group(2) or "d")[0].lower()]


def parse_date(text: str) -> dt.date | None:
    """An ISO date (YYYY-MM-DD), or None."""
    try:
        return dt.date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class Freshness:
    """Whether a document's review is due; a document never verified is due at once."""

    verified: str
    review_every_days: int
    review_due: str
    stale: bool
    overdue_days: int

    def as_dict(self) -> dict[str, object]:
        return {"verified": self.verified, "review_every_days": self.review_every_days,
                "review_due": self.review_due, "stale": self.stale, "overdue_days": self.overdue_days}


def freshness(verified: str, review_every: str, today: dt.date) -> Freshness:
    """A document is stale from the day its review is due: ``verified`` plus the review period."""
    days = review_days(review_every) or DEFAULT_REVIEW_DAYS
    checked = parse_date(verified)
    if checked is None:
        return Freshness(verified="", review_every_days=days, review_due="", stale=True, overdue_days=0)
    due = checked + dt.timedelta(days=days)
    return Freshness(verified=checked.isoformat(), review_every_days=days, review_due=due.isoformat(),
                     stale=today >= due, overdue_days=max((today - due).days, 0))


def of_document(doc: DocumentRow, today: dt.date) -> Freshness:
    return freshness(doc.verified, doc.review_every, today)


@dataclass(frozen=True)
class DueDocument:
    """A document whose review is due (``stale``) or coming up within the window asked for."""

    path: str
    title: str
    type: str
    client: str
    owner: str
    freshness: Freshness

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "title": self.title, "type": self.type, "client": self.client,
                "owner": self.owner, **self.freshness.as_dict()}


@dataclass(frozen=True)
class OwnerReviews:
    """What one owner has to review, most overdue first; ``owner`` is empty for documents nobody owns."""

    owner: str
    documents: tuple[DueDocument, ...]

    def as_dict(self) -> dict[str, object]:
        return {"owner": self.owner, "documents": [d.as_dict() for d in self.documents]}


def due_for_review(docs: Iterable[DocumentRow], today: dt.date, within_days: int = 0) -> list[OwnerReviews]:
    """Documents due for review by ``today`` plus ``within_days``, grouped per owner (e-mail decides who)."""
    horizon = today + dt.timedelta(days=max(within_days, 0))
    groups: dict[str, list[DueDocument]] = {}
    names: dict[str, str] = {}
    for doc in docs:
        fresh = of_document(doc, today)
        due = parse_date(fresh.review_due)
        if not fresh.stale and (due is None or due > horizon):
            continue
        key = owner_key(doc.owner) if doc.owner.strip() else ""
        names.setdefault(key, doc.owner.strip())
        groups.setdefault(key, []).append(DueDocument(doc.path, doc.title, doc.type, doc.client, doc.owner, fresh))
    out = [
        OwnerReviews(names[key], tuple(sorted(items, key=lambda d: (d.freshness.review_due or "0000", d.path))))
        for key, items in groups.items()
    ]
    return sorted(out, key=lambda o: (o.owner == "", -sum(d.freshness.stale for d in o.documents), o.owner.lower()))
