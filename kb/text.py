"""Words for the keyword index: Unicode word tokens, Snowball-stemmed per script."""

from __future__ import annotations

import functools
import re

import snowballstemmer

_WORD = re.compile(r"\w+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-яё]")
_RU = snowballstemmer.stemmer("russian")
_EN = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """The Snowball stem of one lower-case word (Russian for Cyrillic, English otherwise)."""
    word = word.replace("ё", "е")
    if _CYRILLIC.search(word):
        return str(_RU.stemWord(word))
    if word.isascii() and word.isalpha():
        return str(_EN.stemWord(word))
    return word


def terms(text: str) -> list[str]:
    """Stemmed terms of ``text`` in order, lower-cased; underscores split words."""
    return [stem(w) for w in _WORD.findall(text.lower().replace("_", " "))]


def fts_query(text: str, limit: int = 64) -> str:
    """An FTS5 OR-query of quoted stems: user text never becomes query syntax."""
    seen: list[str] = []
    for t in terms(text):
        if t not in seen:
            seen.append(t)
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in seen[:limit])
