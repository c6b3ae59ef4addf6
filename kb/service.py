"""The knowledge base as a running service: one current index, swapped whole after a reindex.

The CLI and the web app both go through :class:`KnowledgeBase`; neither adds retrieval logic.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from kb.answer import CONFIDENT_FROM, Answer, answer
from kb.datastore import DataStore, Gap
from kb.documents import Rendered, render
from kb.embedding import Embedder, load_embedder
from kb.errors import BadInput, NotFound, QuestionTooLong
from kb.ingest import IngestReport, ingest
from kb.search import Filters, Hit, Index
from kb.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AskResult:
    """An answer, how sure kb is in words, and the gap it opened when it refused."""

    answer: Answer
    verdict: str
    gap_id: int | None = None


@dataclass(frozen=True)
class ClientSummary:
    id: str
    title: str
    documents: int


@dataclass(frozen=True)
class DocumentInfo:
    path: str
    title: str
    type: str
    owner: str
    verified: str
    review_every: str


def verdict(a: Answer) -> str:
    if not a.answered:
        return "not in the knowledge base"
    return "confident" if a.confidence >= CONFIDENT_FROM else "check the source"


class KnowledgeBase:
    """Settings, the shared model, the current index and the users' data store."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._index: Index | None = None
        self._reindex_lock = threading.Lock()
        self.data = DataStore(settings.data_dir)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model, self.settings.cache_dir)
        return self._embedder

    def index(self) -> Index:
        """The index serving now; requests keep the one they started with."""
        current = self._index
        if current is None:
            with self._reindex_lock:
                if self._index is None:
                    self._index = Index(self.settings.index_dir, self.embedder)
                current = self._index
        return current

    def reindex(self) -> IngestReport:
        """Incremental ingest, then swap in the new index once it is complete."""
        s = self.settings
        with self._reindex_lock:
            report = ingest(s.content_dir, s.index_dir, self.embedder, max_file_bytes=s.max_file_bytes,
                            chunk_tokens=s.chunk_tokens)
            self._index = Index(s.index_dir, self.embedder)
        log.info("reindexed: %s", {k: v for k, v in report.as_dict().items() if k != "errors"})
        return report

    def check_question(self, text: str) -> str:
        if len(text) > self.settings.max_question_chars:
            raise QuestionTooLong(
                f"the question is {len(text)} characters; the limit is {self.settings.max_question_chars}")
        cleaned = "".join(ch if ch.isprintable() else " " for ch in text).strip()
        if not cleaned:
            raise BadInput("the question is empty")
        return cleaned

    def search(self, query: str, k: int = 5, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        return self.index().search(self.check_question(query), k=k, filters=filters, mode=mode)  # type: ignore[arg-type]

    def ask(self, question: str, filters: Filters | None = None) -> AskResult:
        """Answer ``question``; a refusal is recorded as a knowledge gap in the data store."""
        question = self.check_question(question)
        filters = filters or Filters()
        a = answer(self.index(), question, filters)
        gap_id = None
        if not a.answered:
            gap_id = self.data.record_gap(question, "refused", filters.client, a.owner)
        return AskResult(a, verdict(a), gap_id)

    def document(self, path: str) -> Rendered:
        """An indexed document, rendered; files that are not in the index are not found."""
        if self.index().store.document(path) is None:
            raise NotFound(f"no document {path!r}")
        return render(self.settings.content_dir, path, self.settings.max_file_bytes)

    def clients(self) -> list[ClientSummary]:
        docs = [d for d in self.index().store.documents() if d.client]
        titles: dict[str, str] = {}
        counts: dict[str, int] = {}
        for d in docs:
            counts[d.client] = counts.get(d.client, 0) + 1
            if d.type == "client" or d.client not in titles:
                titles[d.client] = d.title
        return sorted((ClientSummary(c, titles[c], counts[c]) for c in counts), key=lambda c: c.title.lower())

    def client(self, client_id: str) -> tuple[ClientSummary, list[DocumentInfo]]:
        summary = next((c for c in self.clients() if c.id == client_id), None)
        if summary is None:
            raise NotFound(f"no client {client_id!r}")
        docs = [
            DocumentInfo(d.path, d.title, d.type, d.owner, d.verified, d.review_every)
            for d in self.index().store.documents()
            if d.client == client_id
        ]
        return summary, docs

    def feedback(self, question: str, answer_text: str, helpful: bool, comment: str = "") -> int:
        return self.data.record_feedback(question, answer_text, helpful, comment)

    def gaps(self) -> list[Gap]:
        return self.data.gaps()
