"""Answer a question: the best passages, the sentence of the best one that answers, and a confidence."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from kb.asked import EMAIL, ID, PHONE, asked_all, codes, fits, holds_any, names_codes, polar, quantities, value_terms
from kb.chunking import Chunk
from kb.glossary import Glossary
from kb.names import Match, distance, fold, words
from kb.search import Filters, Hit, Index, Ranking, Vector
from kb.spans import MAX_SPAN_CHARS as MAX_ANSWER_CHARS
from kb.spans import Span, spans
from kb.store import PassageRow
from kb.text import STOPWORDS, content_stems, is_noun, learn, script, stem, terms, topical

SOURCES = 5
# Logistic model over retrieval and answer features, fitted by bench/calibrate.py on ../shared/eval
# (in-base questions whose gold section ranks first as positives, other sets' questions as negatives).
WEIGHTS = {"dense": -18.948, "margin": 62.729, "agree": 0.19, "sentence": 52.091, "coverage": 12.231, "cross": 4.959,
           "missing": -3.601}
BIAS = -29.576
# Chosen on bench/calibration.txt: at 0.40, 91-97% of first-ranked in-base answers (same language and
# cross-lingual) are given and 94-96% of out-of-base questions refused on every set. Every threshold
# from 0.30 to 0.40 gives the 90% of both; a wrong answer said with confidence costs more than
# a refusal, so the choice leans toward refusing while keeping a point of margin on answering.
REFUSE_BELOW = 0.40
CONFIDENT_FROM = 0.85
UNSURE_AT_MOST = 0.84  # an answer kb cannot vouch for is at most "check the source"
NEIGHBOURS = 3  # passages of the best passage's document whose spans compete for the answer
OWN_KINDS = (ID, EMAIL, PHONE)  # values a client has of its own; a general document holds only examples or ours
KIND_SLACK = 0.03  # how much lower a span holding the asked kind of value may score and still win
FIELD_SECTIONS = 3  # other clients' sections closest to a question: the words that name the field asked
# The rarity-weighted share of those words a client's documents must lack for the field to count as absent:
# two thirds, so that one word of a phrase written otherwise ("отсрочка платежа" as "отсрочка") is not enough.
FIELD_LACKING = 2 / 3

# How much the share of the question's rare words a span holds adds to its similarity
# (bench/span_sweep.py: 0, 0.02, 0.05 and 0.1 measured on fedora-faq-ru, xquad-ru and xquad-en).
LEXICAL_WEIGHT = 0.05


@dataclass(frozen=True)
class Answer:
    """What kb says to a question, and from where."""

    answered: bool
    answer: str | None
    confidence: float
    sources: list[Hit]
    owner: str = ""
    features: dict[str, float] = field(default_factory=dict)
    span: str = ""
    client: str = ""  # the client the question was understood to be about
    candidates: tuple[str, ...] = ()  # the clients it named equally, when it named several
    note: str = ""  # why a question about a named client was refused, and what is written instead

    def as_dict(self) -> dict[str, Any]:
        return {
            "answered": self.answered,
            "answer": self.answer,
            "confidence": self.confidence,
            "sources": [h.as_dict() for h in self.sources],
            "owner": self.owner,
            "client": self.client,
            "client_candidates": list(self.candidates),
            "note": self.note,
        }


@dataclass(frozen=True)
class Choice:
    """The span chosen to answer: its text, the best span cosine of its passage, the hit it came from, and
    whether it holds a value of the kind the question asks for (within the range of an amount it gives)."""

    text: str
    similarity: float
    hit: int
    holds: bool = True
    kinds: tuple[str, ...] = ()  # the kinds of value the question asks for
    row: int = -1  # where the table row shown starts in its passage (-1: not a table row)


def _span_scores(index: Index, qvec: np.ndarray, hit: Hit, wanted: dict[str, float]) -> tuple[list[Span], np.ndarray,
                                                                                             np.ndarray]:
    units = spans(hit.text)
    if not units:
        return [], np.zeros(0), np.zeros(0)
    vecs = index.span_vectors_of([hit.id]).get(hit.id)
    if vecs is None or len(vecs) != len(units):  # not stored (cannot happen after a complete ingest)
        context = " > ".join(hit.heading_path)
        vecs = index.embedder.passages([f"{context}\n{u.text}" for u in units])
    sims = vecs @ qvec
    return units, sims, sims + LEXICAL_WEIGHT * np.array([_share(wanted, u.text) for u in units])


def choose(index: Index, qvec: np.ndarray, hits: list[Hit], question: str, words_of: str = "") -> Choice:
    """The span that answers the question, from the best passage or (when a kind of value is asked) its
    neighbours in the same document.

    Each span (with its heading path) was embedded at ingest; a span's score adds the rarity-weighted share
    of the question's words it holds. When the question asks for a kind of value (a date for "когда",
    a number for "сколько", a person for "кто"), the best span holding one wins over better-scored spans
    that hold none, as long as it scores within :data:`KIND_SLACK` of the best. ``words_of`` is the question
    whose words count (the question without the client's name, when only that client's documents compete).
    """
    wanted = _rarity(index, words_of or question)
    kind = asked_all(question)
    # Neighbours compete for a question that asks for a kind of value, or about a named client (the sections of its
    # card are its fields, all close to a question naming it); the best passage's own sentence otherwise stands (in a
    # FAQ file the next section answers another question).
    pool = [i for i, h in enumerate(hits) if h.path == hits[0].path][:NEIGHBOURS if kind or words_of else 1]
    found: list[tuple[float, float, int, int, list[Span], np.ndarray]] = []
    for i in pool:
        units, sims, scores = _span_scores(index, qvec, hits[i], wanted)
        found += [(float(scores[j]), float(sims[j]), i, j, units, scores) for j in range(len(units))]
    if not found:
        return Choice(hits[0].text[:MAX_ANSWER_CHARS], 0.0, 0, holds_any(kind, hits[0].text, question), kind)
    found.sort(key=lambda f: -f[0])
    # Among the spans scoring within KIND_SLACK of the best: one whose range holds the amount the question
    # gives ("скидку 12 %" -> the "от 10 до 15 %" row), then one holding the asked kind of value, then the best.
    amounts = quantities(question)
    close = [f for f in found if f[0] >= found[0][0] - KIND_SLACK]
    best = max(close, key=lambda f: (fits(amounts, f[4][f[3]].text) is not False,
                                     fits(amounts, f[4][f[3]].text) is True,
                                     holds_any(kind, f[4][f[3]].text, question), f[0]))
    if not holds_any(kind, best[4][best[3]].text, question):  # a span holding it, if any scores reasonably close
        typed = [f for f in found if holds_any(kind, f[4][f[3]].text, question)
                 and fits(amounts, f[4][f[3]].text) is not False]
        best = typed[0] if typed and typed[0][0] >= found[0][0] - KIND_SLACK else best
    score, sim, i, j, units, scores = best
    span = units[j].text
    nxt = j + 1
    tabular = hits[i].text[units[j].start:units[j].end].lstrip().startswith("|")
    if (not tabular and nxt < len(units) and len(span) < 100
            and len(span) + 1 + len(units[nxt].text) <= MAX_ANSWER_CHARS and scores[nxt] >= score - 0.02):
        span = f"{span} {units[nxt].text}"
    # A yes-or-no question ("Астана Гранд платит с отсрочкой?") is answered by what the paragraph states first (the
    # rule: "100% предоплата до отгрузки"), then by the sentence closest to it (the condition), when both fit; items
    # of a list are separate facts.
    first = units[0]
    if (polar(question) and j and "\n" not in hits[i].text[first.start:units[j].start]
            and len(first.text) + 1 + len(span) <= MAX_ANSWER_CHARS and first.text not in span):
        span = f"{first.text} {span}"
    # Confidence reads how close the answering passage's best sentence is, whichever of its spans is shown.
    return Choice(span, max(f[1] for f in found if f[2] == i), i,
                  holds_any(kind, span, question) and fits(amounts, span) is not False, kind,
                  units[j].start if tabular else -1)


def names_row(question: str, text: str, row: int) -> bool:
    """Whether the question names the table row starting at ``row`` of ``text`` by what no other row's first cell
    says: its code ("VT-1000") or a word of its first cell ("в Казахстан" for the row "Казахстан: Астана, …")."""
    keys = {u.start: u.key for u in spans(text) if u.key}
    if row not in keys:
        return False
    mine = set(terms(keys[row]))
    others = set(terms(" ".join(k for at, k in keys.items() if at != row)))
    return bool(codes(question)) and names_codes(question, keys[row]) or bool(content_stems(question) & (mine - others))


def best_span(index: Index, qvec: np.ndarray, hit: Hit, question: str = "") -> tuple[str, float]:
    """The span of ``hit`` alone that answers the question, with its similarity to the question."""
    c = choose(index, qvec, [hit], question)
    return c.text, c.similarity


def coverage(index: Index, question: str, text: str) -> float:
    """The share of the question's topic words, weighted by rarity, found in the passage or its headings.

    A rare word of the question that the passage lacks ("NPS", a client the base never heard of)
    is strong evidence that the passage does not answer it.
    """
    return _share(_rarity(index, question), text)


def _rarity(index: Index, question: str) -> dict[str, float]:
    """The question's topic words, each weighted by its rarity in the index."""
    return {t: index.idf(t) for t in content_stems(question)}


def _share(weights: dict[str, float], text: str) -> float:
    """The rarity-weighted share of the question's topic words that ``text`` holds (1.0 when it has none)."""
    total = sum(weights.values())
    if not weights or total <= 0:
        return 1.0
    have = set(terms(text))
    return sum(w for t, w in weights.items() if t in have) / total


def missing(index: Index, question: str, text: str) -> float:
    """How rare the rarest question word the passage lacks is: 0 when it lacks none, 1 for a word the index never saw.

    A name or term no passage holds ("NPS", a client kb has no card for) is the plainest sign of a
    question the knowledge base cannot answer.
    """
    have = set(terms(text))
    absent = [index.idf(t) for t in content_stems(question) if t not in have]
    return max(absent) / index.idf("\0never") if absent else 0.0


def _terms_in(index: Index, term: str, sql: str, args: tuple[str, ...]) -> bool:
    return bool(index.store.keyword('"' + term.replace('"', '""') + '"', 1, sql, args))


def _heading_words(heading: str) -> set[str]:
    return content_stems(heading)


def absent_field(index: Index, question: str, qvec: np.ndarray, named: Match, hits: list[Hit],
                 found: bool = False) -> PassageRow | None:
    """The section other clients' cards answer ``question`` from, when the named client's documents have nothing
    like it: the asked field is simply not written down for this client.

    Two signs, either enough: of the question's words that name the field (those of the sentences of the other
    cards' closest sections that answer it), two thirds (by rarity) occur nowhere in this client's documents
    ("кредитный лимит" in a card without one); or the other cards' best section for the question is closer to
    it than anything of this client's and this client has no section under a heading like it, or like one
    above it ("Кто подписывает документы" in a card without signers). A value of the asked kind already
    ``found`` in the client's own documents outweighs the second sign: the field may sit under another heading
    there (an IT director's e-mail among the decision makers).
    """
    mine = ("SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id WHERE d.client = ?", (named.client,))
    others = ("SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id "
              "WHERE d.type = 'client' AND d.client NOT IN (?, '')", (named.client,))
    name_stems = {stem(fold_back) for fold_back in _named_words(question, named)}
    weights = {t: index.idf(t) for t in topical(sorted(content_stems(question) - name_stems))}
    # Words are compared only where the client's documents are in the question's language, and only those
    # of the other card's answering section count: they name the field ("кредитный лимит"), not the topic.
    lacking = [t for t in weights if not _terms_in(index, t, *mine) and _terms_in(index, t, *others)]
    best = index.dense(qvec, FIELD_SECTIONS, index.card_passages_except(named.client))
    if not best:
        return None
    pid, score = max(best.items(), key=lambda kv: kv[1])
    rows = index.store.passages(best)
    row = rows.get(pid)
    if row is None:
        return None
    # Every heading of the client's documents, those above sections too ("Условия оплаты" over "Схема 50/50").
    headings = {h for r in index.store.conn.execute(
        "SELECT DISTINCT p.heading_path FROM passages p JOIN documents d ON d.id = p.doc_id WHERE d.client = ?",
        (named.client,)) for h in json.loads(r[0])}
    language = script(" ".join(headings))
    # Values (numbers, dates, months) are what is asked about, never the name of a field.
    field = set(terms(" ".join(_best_sentence(index, qvec, r) for r in rows.values()))) - value_terms(question)
    asked_field = {t: w for t, w in weights.items() if t in field}
    share = sum(asked_field[t] for t in lacking if t in asked_field) / (sum(asked_field.values()) or 1.0)
    # The field is the other card's section or any section above it ("Условия оплаты > Отсрочка").
    alike = any(len(w & (h := _heading_words(heading))) * 2 >= max(len(w | h), 1)
                for w in map(_heading_words, row.heading_path[1:] or row.heading_path) for heading in headings)
    # Asked yes or no ("платит с отсрочкой?"), a client whose card has the field answers in its own words: no
    # "отсрочка" in a card whose "Условия оплаты" say "100% предоплата" is the answer, not a gap.
    if script(question) == language and share >= FIELD_LACKING and not (polar(question) and alike):
        return row
    if found or script(row.heading) != language:  # headings in another language say nothing of what is missing
        return None
    own = max(index.dense(qvec, 1, index.passages_of(named.client)).values(), default=0.0)
    return row if score > own and not alike else None


def _best_sentence(index: Index, qvec: np.ndarray, row: PassageRow) -> str:
    """The heading and the span of a passage closest to the question (the whole passage without span vectors)."""
    units = spans(row.text)
    vecs = index.span_vectors_of([row.id]).get(row.id)
    if vecs is None or len(vecs) != len(units):
        return " ".join([row.heading, row.text])
    return " ".join([row.heading, units[int(np.argmax(vecs @ qvec))].text])


def unknown_words(index: Index, question: str, named: Match) -> list[str]:
    """The things a question asks about that no document names: its Russian nouns (its client's name and the
    glossary's slang left out) that no passage of the index holds, when the index knows most of its other topic
    words (a question in a language the base is barely written in is no evidence)."""
    name_stems = {stem(w) for w in _named_words(question, named)}
    found = [(w, stem(w)) for w in words(question) if stem(w) not in name_stems and w not in STOPWORDS]
    topic = [(w, t) for w, t in found if len(t) > 2 and not any(c.isdigit() for c in w)]
    known = [t for _, t in topic if t in index.df]
    unknown = [w for w, t in topic if t not in index.df and is_noun(w) and not index.glossary.knows(w)
               and not _derived(index, t)]
    return unknown if topic and len(known) * 3 >= len(topic) * 2 else []


def beside_the_point(index: Index, question: str, named: Match, top: Hit, span: str) -> bool:
    """Whether the answer shares no topic word with the question once the words saying who it is about are left
    out: the client's name and the places it is in, by its tags or a glossary word for one ("ССМ питерские …",
    "ГрадСтрою из Нижнего …"); the rest is read in the documents' words. Across languages only the fields an
    English question asks about, in the base's words (kb.glossary.FIELDS_EN), are compared."""
    if script(question) != script(span):  # across languages only the fields the glossary reads say anything
        naming = {stem(n) for n in named.words}
        fields = Glossary.translate(" ".join(w for w in words(question) if stem(fold(w)) not in naming))
        return bool(fields) and not content_stems(fields) & set(terms(" ".join([*top.heading_path, span])))
    client = next((n for n in index.names.names if n.id == named.client and n.kind == "client"), None)
    tags = set(client.tags) if client else set()

    def names_who(word: str) -> bool:
        folded = fold(word)
        if folded in named.words or folded in tags:
            return True
        if any(folded.startswith(t[:max(4, len(t) - 2)]) for t in tags if len(t) >= 4):
            return True
        return any(fold(w) in tags for form in index.glossary.forms(word) for w in words(form))

    rest = " ".join(w for w in words(question) if not names_who(w))
    topic = content_stems(rest) | content_stems(index.in_own_words(rest))
    said = set(terms(" ".join([*top.heading_path, span])))
    # A word the answer holds with a prefix counts ("платит" in "оплаты", "грузить" in "отгрузка").
    return bool(topic) and not any(t in said or len(t) >= 4 and any(t in w for w in said) for t in topic)


_CAPITALISED = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-z]{2,}\b")


def unknown_names(index: Index, question: str, named: Match) -> list[str]:
    """The capitalised words inside an English question (names of people, places, things) that no passage
    holds, as written or read as Cyrillic, even with one letter off or as the start of a longer word; the
    client's name, function words and the words the glossary translates left out."""
    out = []
    for m in _CAPITALISED.finditer(question.strip()):
        word = m.group(0)
        if word.lower() in STOPWORDS or fold(word) in named.words or Glossary.translate(word):
            continue
        forms = {stem(word.lower()), stem(fold(word))}
        if forms & index.df.keys():
            continue
        folded = fold(word)
        # one letter off ("Stendard"), or the start of a word the base has ("Kazakh" -> "Казахстан")
        if len(folded) >= 5 and any(t.startswith(folded) or len(folded) >= 6 and abs(len(t) - len(folded)) <= 2
                                    and distance(fold(t), folded) <= 1 for t in index.df if t[:1] == folded[:1]):
            continue
        out.append(word)
    return out


def _fields_held(asks: list[tuple[tuple[str, ...], str]], hit: Hit) -> int:
    """How many of the fields asked (kb.glossary.Glossary.fields) a passage or its headings hold, in English or in
    the base's words."""
    have = set(terms(" ".join([*hit.heading_path, hit.text])))
    return sum(1 for english, russian in asks if set(english) <= have or content_stems(russian) & have)


def _context(hit: Hit) -> str:
    """A passage with its document's title and its headings: where a code or a topic word may be said."""
    return " ".join([hit.title, *hit.heading_path, hit.text])


def _first(ranking: Ranking, hits: list[Hit], i: int) -> tuple[Ranking, list[Hit]]:
    """The ranking and its hits with hit ``i`` moved first."""
    hits = [hits[i], *hits[:i], *hits[i + 1 :]]
    return replace(ranking, hits=hits), hits


def _clients(index: Index, hits: list[Hit]) -> dict[str, str]:
    """The client of each hit's document ("" for a general one), read once per document."""
    out: dict[str, str] = {}
    for h in hits:
        if h.path not in out:
            doc = index.store.document(h.path)
            out[h.path] = doc.client if doc is not None else ""
    return out


def _derived(index: Index, term: str) -> bool:
    """Whether ``term`` is made from a word the index has, by a suffix ("снабженц" from "снабжен"): a known
    term of six letters or more begins it."""
    return any(term[:i] in index.df for i in range(6, len(term)))


def _named_words(question: str, named: Match) -> list[str]:
    return [w for w in words(question) if fold(w) in named.words]


def not_written(index: Index, question: str, client: str, elsewhere: PassageRow | None, top: Hit,
                nearest: str) -> str:
    """What kb says instead of a value the named client's documents do not have: that it is not written down,
    where other clients have it, the nearest thing that is written, and who owns the client."""
    title = index.names.title(client)
    where = f"{top.path} › {' › '.join(top.heading_path[1:]) or top.heading}"
    if script(question) == "latin":
        other = f" (other clients' cards have it under \u201c{elsewhere.heading}\u201d)" if elsewhere else ""
        return (f"The documents of {title} do not say this{other}. Nearest: \u201c{nearest}\u201d ({where}). "
                f"Owner: {top.owner or 'nobody named'}.")
    other = f" (у других клиентов это раздел «{elsewhere.heading}»)" if elsewhere else ""
    return (f"В документах клиента {title} этого нет{other}. "
            f"Ближайшее: «{nearest}» ({where}). Ответственный: {top.owner or 'не указан'}.")


def features(index: Index, ranking: Ranking, sentence: float, question: str) -> dict[str, float]:
    """The numbers confidence is computed from."""
    top = ranking.hits[0]
    context = _context(top)
    second = max((s for pid, s in ranking.dense.items() if pid != top.id), default=top.dense)
    keyword = sorted(ranking.keyword, key=lambda pid: -ranking.keyword[pid])[:3]
    return {
        "dense": top.dense,
        "margin": top.dense - second,
        "agree": 1.0 if top.id in keyword else 0.0,
        "sentence": sentence,
        "coverage": coverage(index, question, context),
        "missing": missing(index, question, context),
        "cross": 1.0 if script(question) != script(top.text) else 0.0,
    }


def confidence(feats: dict[str, float]) -> float:
    z = BIAS + sum(WEIGHTS[k] * feats[k] for k in WEIGHTS)
    return round(1.0 / (1.0 + math.exp(-z)), 4)


def about(index: Index, question: str, filters: Filters) -> Match:
    """The client a question is about: the one selected, else the one (or the several equally) it names."""
    if filters.client or filters.clients:
        return Match(filters.client, tuple(sorted({filters.client, *filters.clients} - {""})))
    return index.names.match(question)


def answer(index: Index, question: str, filters: Filters | None = None, qvec: Vector | None = None,
           ranking: Ranking | None = None, resolve: bool = True) -> Answer:
    """Answer from the best passage, or refuse when the confidence is below the calibrated threshold.

    A question that names a client (and no client is selected) is answered from that client's documents
    and general ones only; ``resolve=False`` asks across every client. A ``ranking`` already retrieved for
    this question (with these filters) is reused, not fetched again.
    """
    filters = filters or Filters()
    asked_as = question  # as the person wrote it: slang the glossary knows is not an unknown word
    own = index.in_own_words(question)
    # An English question to a base written in Russian also says, in the base's words, the fields it asks about
    # ("payment deferral" -> "оплата платеж отсрочка"): both searches, and the evidence of the answer, use them.
    translated = index.glossary.translate(question) if script(question) == "latin" and index.in_cyrillic else ""
    spoken = own  # the fields read in the base's words find passages; whether a field is written is judged as asked
    if translated:
        own = f"{own} ({translated})"
    if own != question:
        question, qvec, ranking = own, None, None
    named = about(index, question, filters) if resolve else Match()
    if named.candidates:
        filters = replace(filters, client=named.client, clients=() if named.client else named.candidates)
        ranking = None  # retrieved for every client: ask again within the named one
    # Within one client's documents its name tells no section from another on the keyword side.
    words = index.names.mask(question) if named.words else None
    ranking = ranking or index.retrieve(question, k=2 * SOURCES, filters=filters, qvec=qvec, words=words)
    if ranking.qvec is not None:
        qvec = ranking.qvec
    elif qvec is None:
        qvec = index.embedder.query(question)
    elif callable(qvec):
        qvec = qvec()
    hits = ranking.hits[:SOURCES]
    further = ranking.hits[SOURCES : 2 * SOURCES]  # the next ones, where a code the first ones lack may be
    client_of = _clients(index, hits)
    # A named client's own documents hold its facts: one of them about what is asked, scoring about as well as a
    # general document (a policy on contract numbers, against the client's contract), comes first.
    if named.client and hits:
        theirs = [i for i, h in enumerate(hits) if client_of[h.path] == named.client
                  and not beside_the_point(index, asked_as, named, h, h.text)]
        # Asked for a value only a client has of its own (its contract's number, an e-mail, a phone), one of them
        # holding it comes first whatever the general document scores: the client's contract number, not the policy's
        # example of one.
        kinds = tuple(k for k in asked_all(question) if k in OWN_KINDS)
        typed = [i for i in theirs if kinds and holds_any(kinds, hits[i].text, question)]
        if typed and typed[0] and not client_of[hits[0].path]:
            ranking, hits = _first(ranking, hits, typed[0])
        elif theirs and theirs[0] and hits[theirs[0]].score >= hits[0].score - KIND_SLACK:
            ranking, hits = _first(ranking, hits, theirs[0])
    # A question that names no client is about what holds in general: a general document (a policy, a price list)
    # scoring about as well as one client's card comes first.
    if not named.candidates and hits and client_of[hits[0].path]:
        general = next((i for i, h in enumerate(hits) if not client_of[h.path]), 0)
        if general and hits[general].score >= hits[0].score - KIND_SLACK:
            ranking, hits = _first(ranking, hits, general)
    # An English question to a base in Russian: a passage holding more of the fields it asks about, in either language
    # ("charge", "commission" as "расценки", "пусконаладка"), outranks one scoring about as well that holds fewer (an
    # English FAQ close to the question's wording, about another thing).
    if translated and hits:
        asks = Glossary.fields(spoken)
        held = [_fields_held(asks, h) for h in hits]
        close = [i for i, h in enumerate(hits) if h.score >= hits[0].score - KIND_SLACK]
        best = max(close, key=lambda i: (held[i], -i))
        if held[best] > held[0]:
            ranking, hits = _first(ranking, hits, best)
    # A model or code the question names ("VT-2000") is answered from a passage that has it, when one is among
    # the sources (or the next five) and the first is not.
    context = [_context(h) for h in hits]
    if hits and not names_codes(question, context[0]):
        coded = next((i for i, c in enumerate(context) if names_codes(question, c)), 0)
        extra = None if coded else next((h for h in further if names_codes(question, _context(h))), None)
        if extra is not None:
            hits = [*hits[: SOURCES - 1], extra]
            ranking, coded = replace(ranking, hits=hits), len(hits) - 1
            client_of.update(_clients(index, [extra]))
        if coded:
            ranking, hits = _first(ranking, hits, coded)
    if not hits:
        return Answer(False, None, 0.0, [], features={}, client=named.client,
                      candidates=named.candidates if not named.client else ())
    masked = index.names.mask(question) if named.words else ""
    chosen = choose(index, qvec, hits, question, masked)
    # About the client but beside the point (its card's introduction, drawn by the client's city in the question):
    # the next of the client's passages that speaks of what is asked answers instead.
    # The passage set aside no longer competes: its closeness to the question is the client's name, not the fact.
    if named.client and beside_the_point(index, asked_as, named, hits[chosen.hit], chosen.text):
        aside = hits[chosen.hit]
        for i, h in enumerate(hits):
            if i == chosen.hit or client_of[h.path] != named.client:
                continue
            other = choose(index, qvec, [h], question, masked)
            if not beside_the_point(index, asked_as, named, h, other.text):
                hits = [h for h in hits if h.id != aside.id]
                ranking = replace(ranking, hits=hits, dense={p: v for p, v in ranking.dense.items() if p != aside.id})
                chosen = replace(other, hit=hits.index(h))
                break
    if chosen.hit:  # the answer's own passage is the first source
        ranking, hits = _first(ranking, hits, chosen.hit)
    top = hits[0]
    learn(Chunk("", top.heading, top.heading_path, top.text, 0, 0).embed_text(top.title), index.store.terms_of(top.id))
    feats = features(index, ranking, chosen.similarity, question)
    conf = confidence(feats)
    # The named client's own document holds a value of the kind asked (a date for "до какого числа", a phone for
    # "телефон снабженца"), in a passage about what is asked: the fact is found, whatever the margin between
    # sections of one card, which all speak of the same client. The caps below still apply.
    mine = bool(named.client) and client_of[top.path] == named.client
    beside = bool(named.client) and beside_the_point(index, asked_as, named, top, chosen.text)
    if mine and chosen.kinds and chosen.holds and conf >= REFUSE_BELOW and not beside:
        conf = max(conf, CONFIDENT_FROM)
    # A question naming no client that names a row of a general document's table by its first cell ("в Казахстан",
    # "VT-1000") and asks for a kind of value the row holds: a lookup in the table, found.
    if (not named.candidates and not client_of[top.path] and chosen.kinds and chosen.holds and conf >= REFUSE_BELOW
            and names_row(question, top.text, chosen.row)):
        conf = max(conf, CONFIDENT_FROM)
    note = ""
    # On the topic without the value asked for, or without the model or code the question names ("NT-HP 120"
    # against a table of NT-HP 45-90): never said with confidence.
    if not chosen.holds or not names_codes(question, _context(top)):
        conf = min(conf, UNSURE_AT_MOST)
    # A topic word of the question that no document uses ("хладагент", "пересдача"), in the language of the answer:
    # the thing asked about is not written down anywhere, whatever the passage is about.
    if script(question) == script(top.text) and unknown_words(index, asked_as, named):
        conf = min(conf, UNSURE_AT_MOST)
    # A name in an English question that the base has never seen, in Latin or read as Cyrillic ("Kirill Zuev",
    # "Vladivostok"): whoever or wherever it names, the base says nothing of it.
    if script(asked_as) == "latin" and unknown_names(index, asked_as, named):
        conf = min(conf, UNSURE_AT_MOST)
    # An amount the question gives that no range or value of the answering passage covers ("на 5 лет" against
    # rows for 1, 2 and 3 years): the passage is about the topic, not this case.
    if fits(quantities(question), top.text) is False:
        conf = min(conf, UNSURE_AT_MOST)
    # About the client named, but not about what is asked of it (the card's introduction, for a question on its
    # payment terms): the answer says nothing the question asks beyond who it is about.
    if beside and not (chosen.kinds and chosen.holds):
        conf = min(conf, UNSURE_AT_MOST)
    if named.client:
        elsewhere = absent_field(index, spoken, qvec, named, hits, found=bool(chosen.kinds and chosen.holds and mine))
        if elsewhere is not None:
            conf = min(conf, REFUSE_BELOW / 2)
        if conf < REFUSE_BELOW:
            note = not_written(index, question, named.client, elsewhere, top, chosen.text)
    # A question about a named client answered from a document that is not that client's (a policy, a product
    # page): what holds in general may not hold for this client, whose exceptions are in its own documents.
    if named.client and not mine:
        conf = min(conf, UNSURE_AT_MOST)
    if not named.client and named.candidates:  # two clients named equally: kb does not pick one
        conf = min(conf, UNSURE_AT_MOST)
    # A question that names no client, answered from one client's documents, is about a client nobody asked about
    # (or about no client at all): said at most with "check the source".
    if not named.candidates and client_of[top.path]:
        conf = min(conf, UNSURE_AT_MOST)
    answered = conf >= REFUSE_BELOW
    return Answer(answered, chosen.text if answered else None, conf, hits, top.owner, feats, chosen.text,
                  named.client, named.candidates if not named.client else (), note)
