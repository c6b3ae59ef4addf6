"""Find passages: dense (FAISS) and keyword (FTS5 BM25) candidates, filtered, then fused."""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

from kb.embedding import Embedder
from kb.errors import BadInput, StoreError
from kb.glossary import Glossary
from kb.markdown import anchor
from kb.names import Names
from kb.store import Store
from kb.text import from_wrong_layout, fts_query, script, terms

log = logging.getLogger(__name__)
_CYRILLIC_TERM = re.compile(r"[а-яё]")
Mode = Literal["dense", "keyword", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "keyword", "hybrid")
Vector = np.ndarray | Callable[[], np.ndarray]
_NO_SPANS = np.zeros((0, 0), dtype=np.float32)
_CYRILLIC_RE = re.compile("[а-яё]")
CANDIDATES = 50
# Measured with bench/fusion_sweep.py and bench/span_evidence_sweep.py on fedora-faq-ru, xquad-ru and xquad-en:
# the best span's cosine added at 0.5 raises recall@1 on fedora-faq-ru 0.642 -> 0.650, on xquad-ru 0.946 -> 0.955
# and across languages 0.80 -> 0.85. (Keyword weight 2.5 instead of 2.0 differed by single questions: kept at 2.0.)
KEYWORD_WEIGHT = 2.0
DOCUMENT_WEIGHT = 0.2
SPAN_WEIGHT = 0.5
_BM25_K1 = 1.2  # FTS5's bm25() constant: a term's score never reaches (k1 + 1) x its idf
# Exact search up to this many passages (bench/scale.py: 13 ms a query at 100k on 2 cores), HNSW past it.
# HNSW's recall@10 against exact search on real e5 vectors (9,562 passage and answer-span vectors of the eval
# corpora, 300 real questions): 0.947 / 0.987 / 0.998 at efSearch 128 / 256 / 512 (M=32, efConstruction 200).
EXACT_UP_TO = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 512
# Span vectors kept in memory, as float32 rows (1.5 KB each): 32,768 rows hold every span of a ~5,000-passage
# base in 48 MB; a larger base keeps its most recently asked passages' spans.
SPAN_CACHE_ROWS = 32_768


def vector_index(dim: int, size: int) -> faiss.IndexIDMap2:
    """Exact inner-product search while it is fast enough; an HNSW graph for larger knowledge bases."""
    if size <= EXACT_UP_TO:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH
    return faiss.IndexIDMap2(hnsw)


@dataclass(frozen=True)
class Filters:
    """Metadata a passage's document must carry; empty fields do not filter."""

    client: str = ""  # this client's documents and general ones (no client), never another client's
    type: str = ""
    product: str = ""
    tag: str = ""
    groups: frozenset[str] | None = None  # the reader's groups; None reads every document (CLI, open mode)
    clients: tuple[str, ...] = ()  # several clients at once (a question naming two equally), like ``client``

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Filters:
        data = dict(data or {})
        unknown = set(data) - {"client", "type", "product", "tag"}
        if unknown:
            raise BadInput(f"unknown filter(s): {', '.join(sorted(unknown))}")
        value = {k: str(v) for k, v in data.items() if v}
        return cls(client=value.get("client", ""), type=value.get("type", ""), product=value.get("product", ""),
                   tag=value.get("tag", ""))

    def sql(self) -> tuple[str | None, tuple[str, ...]]:
        """A subquery of allowed passage ids, or None when nothing is filtered."""
        clauses: list[str] = []
        args: list[str] = []
        clients = sorted({self.client, *self.clients} - {""})
        if clients:
            clauses.append(f"(d.client = '' OR d.client IN ({','.join('?' * len(clients))}))")
            args += clients
        if self.type:
            clauses.append("d.type = ?")
            args.append(self.type)
        for kind in ("product", "tag"):
            value = getattr(self, kind)
            if value:
                clauses.append("d.id IN (SELECT doc_id FROM labels WHERE kind = ? AND value = ?)")
                args += [kind, value]
        if self.groups is not None:
            marks = ",".join("?" * len(self.groups))
            clauses.append(
                "(d.id NOT IN (SELECT doc_id FROM labels WHERE kind = 'access')"
                + (f" OR d.id IN (SELECT doc_id FROM labels WHERE kind = 'access' AND value IN ({marks})))"
                   if self.groups else ")")
            )
            args += sorted(self.groups)
        if not clauses:
            return None, ()
        return (
            "SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id WHERE " + " AND ".join(clauses),
            tuple(args),
        )


@dataclass(frozen=True)
class Hit:
    """A ranked passage with everything needed to cite it."""

    path: str
    heading: str
    heading_path: tuple[str, ...]
    text: str
    score: float
    start_line: int
    end_line: int
    title: str = ""
    owner: str = ""
    id: int = 0
    dense: float = 0.0
    keyword: float = 0.0

    @property
    def anchor(self) -> str:
        return anchor(self.heading_path)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["heading_path"] = list(self.heading_path)
        d["anchor"] = self.anchor
        return d


@dataclass(frozen=True)
class Ranking:
    """Fused hits, best first, with the dense and keyword candidate scores they came from."""

    hits: list[Hit]
    dense: dict[int, float]
    keyword: dict[int, float]
    qvec: np.ndarray | None = None  # None in keyword mode


def bm25_idf(df: int, n: int) -> float:
    """FTS5's idf of a term held by ``df`` of ``n`` passages (never below its floor of 1e-6)."""
    return max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)


class Index:
    """An immutable, loaded index: the database, the FAISS view of its vectors and the model."""

    def __init__(self, index_dir: Path, embedder: Embedder) -> None:
        self.store = Store(index_dir)
        self.embedder = embedder
        built_with = self.store.get_meta("model")
        if built_with != embedder.name:
            raise StoreError(f"index was built with model {built_with!r}, not {embedder.name!r}: run `kb ingest`")
        self.generation = self.store.get_meta("generation") or "0"
        self.names = Names.from_store(self.store)
        self.glossary = Glossary.from_documents(self.store.documents())
        self.df = self.store.document_frequencies()
        # Each passage's document and section: fusion ranks candidates without reading their rows, and only
        # the hits returned are read.
        self.sections = self.store.sections()
        self._spans: OrderedDict[int, np.ndarray] = OrderedDict()
        self._span_rows = 0
        self._span_lock = threading.Lock()
        ids, vecs = self.store.vectors()
        self.size = len(ids)
        self.faiss = vector_index(embedder.dim, self.size)
        if len(ids):
            self.faiss.add_with_ids(vecs, ids)

    @functools.cached_property
    def in_cyrillic(self) -> bool:
        """Whether a fifth or more of the index's terms are Cyrillic: a base written (partly) in Russian."""
        cyrillic = sum(1 for t in self.df if _CYRILLIC_TERM.match(t))
        return cyrillic * 5 >= len(self.df) > 0

    @functools.cached_property
    def _client_passages(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = self.store.conn.execute(
            "SELECT p.id, d.client, d.type = 'client' FROM passages p JOIN documents d ON d.id = p.doc_id "
            "WHERE d.client != ''").fetchall()
        return (np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=object),
                np.array([bool(r[2]) for r in rows], dtype=bool))

    def passages_of(self, client: str) -> np.ndarray:
        """The passage ids of a client's documents (read once per index)."""
        ids, clients, _ = self._client_passages
        return np.asarray(ids[clients == client], dtype=np.int64)

    def card_passages_except(self, client: str) -> np.ndarray:
        """The passage ids of every other client's card."""
        ids, clients, cards = self._client_passages
        return np.asarray(ids[cards & (clients != client)], dtype=np.int64)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term; terms the index never saw weigh most."""
        return math.log((self.size + 1) / (self.df.get(term, 0) + 0.5))

    def repair(self, query: str) -> str:
        """The query as meant: Russian typed on the English layout is switched back when its words are known.

        Only a query without Cyrillic letters is considered, and only when more of its converted words
        than of its own words occur in the index.
        """
        if script(query) != "latin" or _CYRILLIC_RE.search(query.lower()):
            return query
        fixed = from_wrong_layout(query)

        def known(text: str) -> float:
            words = terms(text)
            return sum(1 for w in words if w in self.df) / len(words) if words else 0.0

        return fixed if known(fixed) >= 0.5 and known(fixed) > known(query) else query

    def in_own_words(self, query: str) -> str:
        """The query in the documents' words: slang and aliases the index never saw replaced (kb.glossary)."""
        return self.glossary.expand(query, lambda term: term in self.df)

    def keyword_ceiling(self, query: str) -> float:
        """The BM25 score a passage would get by holding every term of ``query`` as often as can count.

        Dividing by it makes a keyword score the share of the question's information a passage matches:
        near 1 for a passage holding the question's rare words, small when only common words (or, across
        languages, a few shared names) match. Words the index never saw count fully, so a question the
        keyword side cannot serve gets a small keyword say.
        """
        return sum(bm25_idf(self.df.get(t, 0), self.size) for t in set(terms(query))) * (_BM25_K1 + 1) or 1.0

    def _allowed(self, filters: Filters) -> tuple[str | None, tuple[str, ...], np.ndarray | None]:
        sql, args = filters.sql()
        if sql is None:
            return None, (), None
        ids = np.array([r[0] for r in self.store.conn.execute(sql, args)], dtype=np.int64)
        return sql, args, ids

    def dense(self, qvec: np.ndarray, n: int, allowed: np.ndarray | None) -> dict[int, float]:
        if self.size == 0 or (allowed is not None and len(allowed) == 0):
            return {}
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(allowed)
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=HNSW_EF_SEARCH)  # type: ignore[attr-defined]
                      if self.size > EXACT_UP_TO else faiss.SearchParameters(sel=selector))  # type: ignore[call-arg]
        scores, ids = self.faiss.search(qvec.reshape(1, -1), min(n, self.size), params=params)
        return {int(i): float(s) for s, i in zip(scores[0], ids[0]) if i >= 0}

    def span_cosines(self, qvec: np.ndarray, passage_ids: Iterable[int]) -> dict[int, float]:
        """Each passage's best answer-span cosine with the question, from the span vectors made at ingest."""
        spans = self.span_vectors_of(passage_ids)
        if not spans:
            return {}
        counts = [len(v) for v in spans.values()]
        best = np.maximum.reduceat(np.concatenate(list(spans.values())) @ qvec, np.cumsum([0, *counts[:-1]]))
        return dict(zip(spans, best.tolist()))

    def span_vectors_of(self, passage_ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Span vectors (float32) by passage id, passages without any left out: from memory, else read from the
        store in one query and kept, least recently used first out once :data:`SPAN_CACHE_ROWS` are held."""
        wanted = list(passage_ids)
        with self._span_lock:
            found = {pid: self._spans[pid] for pid in wanted if pid in self._spans}
            for pid in found:
                self._spans.move_to_end(pid)
        missing = [pid for pid in wanted if pid not in found]
        if missing:
            ids, counts, vecs = self.store.span_matrix(missing)
            read = dict(zip(ids, np.split(vecs, np.cumsum(counts[:-1])) if ids else []))
            with self._span_lock:
                for pid in missing:  # a passage without span vectors is remembered as having none
                    if pid not in self._spans:
                        self._spans[pid] = read.get(pid, _NO_SPANS)
                        self._span_rows += len(self._spans[pid])
                while self._span_rows > SPAN_CACHE_ROWS and self._spans:
                    self._span_rows -= len(self._spans.popitem(last=False)[1])
            found.update(read)
        return {pid: found[pid] for pid in wanted if pid in found and len(found[pid])}

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        qvec: Vector | None = None,
    ) -> list[Hit]:
        """The best ``k`` passages for ``query`` among those the filters allow."""
        return self.retrieve(query, k, filters, mode, qvec).hits

    def retrieve(
        self,
        query: str,
        k: int = 5,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        qvec: Vector | None = None,
        words: str | None = None,
    ) -> Ranking:
        """Like :meth:`search`, keeping each method's own candidate scores (and the question's vector).

        ``qvec`` is the question's vector, or a call that waits for it (:meth:`Embedder.query_soon`); ``words``, when
        given, is what the keyword side searches instead of ``query`` (the question without a client's name).
        """
        if mode not in MODES:
            raise BadInput(f"unknown mode {mode!r}")
        if k < 1:
            raise BadInput("k must be at least 1")
        sql, args, allowed = self._allowed(filters or Filters())
        n = max(CANDIDATES, k)
        dense: dict[int, float] = {}
        keyword: dict[int, float] = {}
        vector = self.embedder.query_soon(query) if qvec is None and mode != "keyword" else qvec
        if mode != "dense":  # while the model runs
            keyword = dict(self.store.keyword(fts_query(words or query), n, sql, args))
        vec = None
        if mode != "keyword" and vector is not None:
            vec = vector() if callable(vector) else vector
            dense = self.dense(vec, n, allowed)
        fused = fuse(dense, keyword, mode, self.keyword_ceiling(words or query) if mode == "hybrid" else 1.0)
        sections = self.sections
        fused = {pid: v for pid, v in fused.items() if pid in sections}
        if mode == "hybrid":
            if vec is not None and SPAN_WEIGHT:
                fused = with_span_evidence(fused, self.span_cosines(vec, fused), dense)
            fused = with_document_evidence(fused, {pid: sections[pid][0] for pid in fused})
        best = best_per_section(fused, sections, k)
        rows = self.store.passages(pid for pid, _ in best)
        hits = [
            Hit(
                path=r.path, heading=r.heading, heading_path=r.heading_path, text=r.text, score=round(score, 4),
                start_line=r.start_line, end_line=r.end_line, title=r.title, owner=r.owner, id=pid,
                dense=round(dense.get(pid, 0.0), 4), keyword=round(keyword.get(pid, 0.0), 4),
            )
            for pid, score in best
            if (r := rows.get(pid)) is not None
        ]
        return Ranking(hits, dense, keyword, vec)


def with_span_evidence(
    scores: dict[int, float], span_cos: dict[int, float], dense: dict[int, float]
) -> dict[int, float]:
    """Add each passage's best answer-span cosine: a passage holding one sentence that answers the question
    rises above one that is only about the question's topic as a whole.

    A passage without span vectors counts with its passage cosine, or (a keyword-only candidate) the lowest
    span cosine; an index without any span vectors ranks as before.
    """
    if not span_cos or SPAN_WEIGHT == 0:
        return scores
    floor = min(span_cos.values())
    return {pid: v + SPAN_WEIGHT * span_cos.get(pid, dense.get(pid, floor)) for pid, v in scores.items()}


def with_document_evidence(scores: dict[int, float], doc_of: Mapping[int, Hashable]) -> dict[int, float]:
    """Move each passage toward its document's best score: a section in the right file ranks higher."""
    if not scores or DOCUMENT_WEIGHT == 0:
        return scores
    best: dict[Hashable, float] = {}
    for pid, v in scores.items():
        best[doc_of[pid]] = max(best.get(doc_of[pid], v), v)
    return {pid: v + DOCUMENT_WEIGHT * best[doc_of[pid]] for pid, v in scores.items()}


def best_per_section(scores: dict[int, float], section_of: Mapping[int, object], k: int) -> list[tuple[int, float]]:
    """The top ``k`` passages, one per section: the best passage stands for its section."""
    out: list[tuple[int, float]] = []
    seen: set[object] = set()
    for pid, v in sorted(scores.items(), key=lambda kv: -kv[1]):
        if section_of[pid] in seen:
            continue
        seen.add(section_of[pid])
        out.append((pid, v))
        if len(out) == k:
            break
    return out


def fuse(dense: dict[int, float], keyword: dict[int, float], mode: Mode, ceiling: float = 1.0) -> dict[int, float]:
    """One score per candidate: the dense cosine plus a weighted BM25 score.

    BM25 is divided by ``ceiling`` (:meth:`Index.keyword_ceiling` of the query), not min-max normalised
    over the candidates: the best keyword match then weighs by how much of the question it covers
    instead of always counting as a perfect match.
    """
    if mode == "dense":
        return dense
    if mode == "keyword":
        return keyword
    floor = min(dense.values()) if dense else 0.0
    scale = KEYWORD_WEIGHT * _spread(dense) / ceiling
    return {pid: dense.get(pid, floor) + scale * keyword.get(pid, 0.0) for pid in set(dense) | set(keyword)}


def _spread(dense: dict[int, float]) -> float:
    if len(dense) < 2:
        return 1.0
    return max(dense.values()) - min(dense.values())
