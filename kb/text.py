"""Words for the keyword index: Unicode word tokens; Russian ones lemmatised, then Snowball-stemmed per script."""

from __future__ import annotations

import functools
import re
import threading

import pymorphy3
import snowballstemmer

_WORD = re.compile(r"\w+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-яё]")
_LATIN = re.compile(r"[a-z]")
_STEMMERS = threading.local()  # a Snowball stemmer keeps state while it stems: one per thread, never shared
_MORPH = pymorphy3.MorphAnalyzer()
# An e-mail address is one term: its pieces (a client's domain) must not match the client's name elsewhere.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def snowball(language: str, word: str) -> str:
    """``word`` Snowball-stemmed in ``language`` ("russian" or "english"), safe to call from any thread."""
    stemmer = getattr(_STEMMERS, language, None)
    if stemmer is None:
        stemmer = snowballstemmer.stemmer(language)
        setattr(_STEMMERS, language, stemmer)
    return str(stemmer.stemWord(word))


@functools.lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """The index form of one lower-case word.

    Cyrillic words are lemmatised (pymorphy3's most likely reading: "пишите" meets "писать", "людей" meets
    "человек", which suffix stripping misses) and the lemma is then Snowball-stemmed, which still joins forms
    the lemmatiser reads apart (measured better than either alone on the eval sets). Latin words are
    Snowball-stemmed in English.
    """
    word = word.replace("ё", "е")
    if _CYRILLIC.search(word):
        return snowball("russian", _MORPH.parse(word)[0].normal_form.replace("ё", "е"))
    if word.isascii() and word.isalpha():
        return snowball("english", word)
    return word


def _whole_email(match: re.Match[str]) -> str:
    return " " + "".join(_WORD.findall(match.group(0).lower())).replace("_", "") + " "


def is_noun(word: str) -> bool:
    """Whether a word is most likely a Russian noun (pymorphy3; words in other scripts are not told apart)."""
    word = word.lower()
    return bool(_CYRILLIC.search(word)) and _MORPH.parse(word)[0].tag.POS == "NOUN"


def is_counted_noun(word: str) -> bool:
    """Whether a Russian word may be a noun in the genitive, the form a counted thing takes after "сколько"
    ("сколько человек", "сколько дней"; not "сколько гарантия")."""
    word = word.lower()
    return bool(_CYRILLIC.search(word)) and any(p.tag.POS == "NOUN" and p.tag.case in ("gent", "gen2")
                                                 for p in _MORPH.parse(word))


def words(text: str) -> list[str]:
    """The words of ``text`` that become its terms, in order: lower-cased, split at underscores, e-mails whole."""
    return _WORD.findall(_EMAIL.sub(_whole_email, text).lower().replace("_", " "))


def terms(text: str) -> list[str]:
    """Index terms of ``text`` in order, lower-cased; underscores split words, an e-mail address is one term."""
    return [_LEARNED.get(w) or stem(w) for w in words(text)]


# Index forms read back from the index (see learn); cleared when it outgrows its limit.
_LEARNED: dict[str, str] = {}
LEARNED_LIMIT = 200_000


def learn(text: str, stored: list[str]) -> None:
    """Take the terms ingest stored for ``text`` as its words' index forms, instead of lemmatising them again.

    Lemmatising a word pymorphy3 has not seen in this process costs ~50 us; an answer reads the terms of
    its top passage a few times (coverage, spans), so a fresh server would pay that for each new passage.
    """
    found = words(text)
    if len(found) != len(stored):  # not the text these terms were made from
        return
    if len(_LEARNED) > LEARNED_LIMIT:
        _LEARNED.clear()
    _LEARNED.update(zip(found, stored))


def fts_query(text: str, limit: int = 64) -> str:
    """An FTS5 OR-query of quoted stems, function words left out: user text never becomes query syntax."""
    seen: list[str] = []
    for t in topical(terms(text)) + [stem(v) for v in name_variants(_EMAIL.sub(" ", text))]:
        if t not in seen:
            seen.append(t)
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in seen[:limit])


def topical(found: list[str]) -> list[str]:
    """The terms that are not function words ("как", "для", "the"), or all of them when nothing else is left.

    A function word barely moves BM25, yet matching on it made the keyword side score about half of all
    passages for every question (0.7 ms of 0.8 ms on the eval corpora); without them keyword search alone
    ranks better on every eval set and hybrid ranks as before (see the closing note of issue 6). The
    keyword ceiling (kb.search) still counts them: a question's share of information is unchanged.
    """
    kept = [t for t in found if t not in _stop_terms()]
    return kept or found


@functools.cache
def _stop_terms() -> frozenset[str]:
    return frozenset(stem(w) for w in STOPWORDS)


# Function words that carry no topic: left out when measuring how much of a question a passage covers.
STOPWORDS = frozenset(
    """а без бы был была были было в вам вас весь во вот все всё вы где да для до его ее её если есть еще ещё же за
    и из или им их к как какая какие каким какой какое ко когда кто ли либо мне можно мой мы на над нам нас не нет
    ни но ну о об однако он она они оно от по под при про с со так также такой там то тоже только том ты у уже
    чем что чтобы эта эти это этот я сколько почему зачем нужно надо ли наш наши нашим наших
    a about an and are as at be by can could do does did for from has have how i if in is it its me my of on or
    our so that the their there this to was we were what when where which who whom why will with would you your"""
    .split()
)

_TRANSLIT = [
    ("shch", "щ"), ("sch", "щ"), ("ph", "ф"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"),
    ("yu", "ю"),
    ("ya", "я"), ("yo", "ё"), ("ye", "е"), ("a", "а"), ("b", "б"), ("c", "к"), ("d", "д"), ("e", "е"), ("f", "ф"),
    ("g", "г"), ("h", "х"), ("i", "и"), ("j", "й"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"),
    ("p", "п"), ("q", "к"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("v", "в"), ("w", "в"), ("x", "кс"),
    ("y", "ы"), ("z", "з"),
]


_VOWELS = frozenset("aeiouy")


def to_cyrillic(word: str) -> str:
    """A Latin spelling of a Russian name back in Cyrillic ("Romashka" -> "ромашка")."""
    word = word.lower()
    out = ""
    i = 0
    while i < len(word):
        if word[i] == "y" and i and word[i - 1] in _VOWELS and (i + 1 == len(word) or word[i + 1] not in _VOWELS):
            out += "й"  # "Severstroy", "Nikolay"
            i += 1
            continue
        for lat, cyr in _TRANSLIT:
            if word.startswith(lat, i):
                out += cyr
                i += len(lat)
                break
        else:
            out += word[i]
            i += 1
    return out


def name_variants(text: str) -> list[str]:
    """Cyrillic spellings of capitalised Latin words after the first: names a Russian text may hold."""
    words = re.findall(r"\b[A-Z][a-z]{2,}\b", text)
    return [to_cyrillic(w) for w in words[1:] if w.lower() not in STOPWORDS]


def script(text: str) -> str:
    """"cyrillic" or "latin": the alphabet most letters of ``text`` are written in."""
    cyrillic = len(_CYRILLIC.findall(text.lower()))
    latin = len(_LATIN.findall(text.lower()))
    return "cyrillic" if cyrillic >= latin else "latin"


def content_stems(text: str) -> set[str]:
    """Stems of the topic words of ``text`` (no function words)."""
    return {stem(w) for w in _WORD.findall(text.lower().replace("_", " ")) if w.replace("ё", "е") not in STOPWORDS}


_LAYOUT = dict(zip("`qwertyuiop[]asdfghjkl;'zxcvbnm,./", "ёйцукенгшщзхъфывапролджэячсмитьбю."))


def from_wrong_layout(text: str) -> str:
    """What was meant when Russian was typed with the English keyboard layout ("rfr" -> "как")."""
    return "".join(_LAYOUT.get(ch.lower(), ch) for ch in text)
