"""People named as owners in front matter, such as "Анна Петрова (a.petrova@seversoft.example)"."""

from __future__ import annotations

import re
from collections.abc import Iterable

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def owner_key(owner: str) -> str:
    """Who an owner string names: the e-mail when there is one (names are spelled in two alphabets)."""
    email = _EMAIL.search(owner)
    if email:
        return email.group(0).lower()
    return " ".join(owner.lower().replace("ё", "е").split())


def owner_name(owner: str) -> str:
    """The name part of an owner string, without the e-mail."""
    name = _EMAIL.sub("", owner).replace("()", "").strip(" ,;<>()")
    return name or owner.strip()


def distinct(owners: Iterable[str]) -> list[str]:
    """Owners with each person once, in first-seen spelling and order; blanks left out."""
    seen: dict[str, str] = {}
    for owner in owners:
        if owner.strip():
            seen.setdefault(owner_key(owner), owner.strip())
    return list(seen.values())
