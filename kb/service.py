"""The knowledge base as a running service: one current index, swapped whole after a reindex.

The CLI and the web app both go through :class:`KnowledgeBase`; neither adds retrieval logic.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from kb import authoring, edits
from kb.answer import CONFIDENT_FROM, Answer, answer, best_span
from kb.brief import (
    Brief,
    Citation,
    ClientDocument,
    Line,
    about_editions,
    assemble,
    change_lines,
    client_editions,
    document_parts,
    due_lines,
    edition_tables,
    editions_of,
    fact_lines,
    review_lines,
)
from kb.changes import track
from kb.coverage import ClientCoverage, OwnerLoad, by_client, sole_owners
from kb.datastore import DataStore, GapRow, QuestionRow
from kb.dates import dated, statements
from kb.db import PostgresDatabase
from kb.documents import Rendered, render, resolve
from kb.due import DUE, LATER, OVERDUE, DueItem, sort_key, status
from kb.embedding import Embedder, load_embedder
from kb.errors import BadInput, IndexMissing, KbError, NotFound, QuestionTooLong
from kb.freshness import Freshness, OwnerReviews, due_for_review, freshness, of_document
from kb.gaps import Gap, answer_file, answer_section, clean_answer, clean_heading, cluster, group, unique_heading
from kb.generations import Follower, Generations, server_name
from kb.handover import ClientHandover, Handover, missing_parts, open_items, signers
from kb.importing import Imported, convert
from kb.ingest import IngestReport, decode, ingest
from kb.markdown import Document, anchor, parse
from kb.names import Names
from kb.owners import owner_name
from kb.search import Filters, Hit, Index
from kb.settings import Settings
from kb.spans import spans
from kb.store import DB_NAME, DocumentRow, Store

log = logging.getLogger(__name__)
CONFIDENT, UNSURE, REFUSED = "confident", "check the source", "not in the knowledge base"
RECENT_DAYS = 30
GAP_STATUSES = ("open", "answered", "all")


@dataclass(frozen=True)
class AskResult:
    """An answer, how sure kb is in words, the gap it opened when it refused, and its sources' freshness."""

    answer: Answer
    verdict: str
    gap_id: int | None = None
    question_id: int = 0
    freshness: dict[str, Freshness] = field(default_factory=dict)
    question: str = ""  # as understood, after repairs such as a wrong keyboard layout


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


@dataclass(frozen=True)
class GapAnswer:
    """Where the answer to a gap was written, and the section that now answers it."""

    gap_id: int
    path: str
    heading: str
    anchor: str
    start_line: int
    end_line: int
    created: bool
    questions: int


def verdict(a: Answer) -> str:
    if not a.answered:
        return REFUSED
    return CONFIDENT if a.confidence >= CONFIDENT_FROM else UNSURE


def _nearest(hits: Iterable[Hit], n: int = 3) -> tuple[str, ...]:
    return tuple(dict.fromkeys(h.path for h in hits))[:n]


def _source(hit: Hit) -> dict[str, Any]:
    return {"path": hit.path, "heading_path": list(hit.heading_path), "start_line": hit.start_line,
            "end_line": hit.end_line}


def readable(doc: DocumentRow, groups: frozenset[str] | None) -> bool:
    """Whether a reader in ``groups`` may see ``doc`` (None reads everything, as in :class:`Filters`)."""
    access = doc.meta.get("access") or []
    return groups is None or not access or bool(set(access) & groups)


def _due_of(client: str, docs: list[tuple[DocumentRow, Document]], day: dt.date, within: int) -> list[DueItem]:
    """A client's dated items that are overdue, due within ``within`` days, or later (its card first in ``docs``)."""
    card = docs[0][0]
    lines = [st for _, doc in docs for st in statements(doc)]
    out = []
    for row, doc in docs:
        for item in dated(doc, _date(row.verified) or day):
            state, done = status(item, day, within, lines)
            if state in (OVERDUE, DUE, LATER):
                out.append(DueItem(item, client, card.title, owner_name(card.owner or row.owner), state,
                                   (item.date - day).days, done))
    return out


def _fold(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _epoch(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time()).timestamp()


class KnowledgeBase:
    """Settings, the shared model, the current index and the users' data store.

    ``clock`` gives today's date (review dates, answer dates); tests pass a fixed one.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 clock: Callable[[], dt.date] = dt.date.today) -> None:
        self.settings = settings
        self.clock = clock
        self._embedder = embedder
        self._index: Index | None = None
        self._reindex_lock = threading.Lock()
        self._content_lock = threading.Lock()
        self.data = DataStore(settings.data_dir, settings.database_url)
        #: With PostgreSQL, the index generations every server shares (kb.generations); None on one server.
        self.generations = Generations(self.data.db) if isinstance(self.data.db, PostgresDatabase) else None

    def close(self) -> None:
        """Close the users' data store (a PostgreSQL pool ends its threads)."""
        self.data.close()

    @property
    def content_lock(self) -> threading.Lock:
        """Held while kb writes into the content folder: one writer at a time."""
        return self._content_lock

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model, self.settings.cache_dir, self.settings.runtime)
        return self._embedder

    def index(self) -> Index:
        """The index serving now; requests keep the one they started with."""
        current = self._index
        if current is None:
            with self._reindex_lock:
                if self._index is None:
                    if self.generations is not None:
                        self._join()
                    self._index = Index(self.settings.index_dir, self.embedder)
                    if self.generations is None:
                        self._track(self._index)
                current = self._index
        return current

    def _local_generation(self) -> int:
        try:
            return int(Store(self.settings.index_dir).get_meta("generation") or 0)
        except IndexMissing:
            return 0

    def _join(self) -> None:
        """A server starting on the shared database loads the newest generation; the first one to find none
        publishes the index it has (one built by `kb ingest` before the database was shared)."""
        assert self.generations is not None
        newest = self.generations.newest()
        if newest and newest != self._local_generation():
            self.generations.load(self.settings.index_dir)
        elif not newest and (self.settings.index_dir / DB_NAME).exists():
            with self.generations.ingest_lock():
                if not self.generations.newest():
                    self.generations.publish(Store(self.settings.index_dir), self._publisher())

    def _publisher(self) -> str:
        return self.settings.server_name or server_name()

    def reindex(self) -> IngestReport:
        """Incremental ingest, then swap in the new index once it is complete.

        On a shared database one ingest runs at a time on any server (an advisory lock): it starts from the
        newest generation, and publishes a new one when the content changed; every server then loads it.
        """
        s = self.settings
        with self._reindex_lock:
            if self.generations is None:
                report = self._ingest()
                self._index = Index(s.index_dir, self.embedder)
                self._track(self._index)
            else:
                with self.generations.ingest_lock():
                    newest = self.generations.newest()
                    if newest and newest != self._local_generation():
                        self.generations.load(s.index_dir)  # what another server published: not embedded again
                    report = self._ingest()
                    store = Store(s.index_dir)
                    if report.added or report.updated or report.removed or not newest:
                        self.generations.publish(store, self._publisher())
                    else:  # nothing changed: this index is still the newest generation
                        with store.transaction() as conn:
                            Store.set_meta(conn, "generation", str(newest))
                    self._index = Index(s.index_dir, self.embedder)
                    self._track(self._index)  # once, by the server that ingested, for every server
        log.info("reindexed: %s", {k: v for k, v in report.as_dict().items() if k != "errors"})
        return report

    def _ingest(self) -> IngestReport:
        s = self.settings
        return ingest(s.content_dir, s.index_dir, self.embedder, max_file_bytes=s.max_file_bytes,
                      chunk_tokens=s.chunk_tokens)

    def served_generation(self) -> int:
        """The generation of the index serving now (0 before one is loaded)."""
        return int(self._index.generation) if self._index is not None else 0

    def follow(self, generation: int) -> None:
        """Load the newest published generation and swap it in (another server ingested)."""
        assert self.generations is not None
        with self._reindex_lock:
            if self.served_generation() == generation:
                return
            self.generations.load(self.settings.index_dir)
            self._index = Index(self.settings.index_dir, self.embedder)
        log.info("now serving generation %s", self._index.generation)

    def follower(self) -> Follower | None:
        """The thread that keeps this server on the newest generation; None on a server of its own."""
        if self.generations is None:
            return None
        return Follower(self.generations, self.follow, self.served_generation, self._publisher())

    def store(self) -> Store:
        """The index database: the serving index's, or opened alone (no model) when nothing is serving."""
        return self._index.store if self._index is not None else Store(self.settings.index_dir)

    def _track(self, index: Index) -> None:
        try:
            track(index.store, self.data)
        except KbError:  # change tracking must never stop the index from serving
            log.exception("cannot record content changes")

    def names(self) -> Names:
        """Client and product names of the serving index."""
        return self.index().names

    def check_question(self, text: str) -> str:
        if len(text) > self.settings.max_question_chars:
            raise QuestionTooLong(
                f"the question is {len(text)} characters; the limit is {self.settings.max_question_chars}")
        cleaned = "".join(ch if ch.isprintable() else " " for ch in text).strip()
        if not cleaned:
            raise BadInput("the question is empty")
        return cleaned

    def search(self, query: str, k: int = 5, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        index = self.index()
        query = index.in_own_words(index.repair(self.check_question(query)))
        return index.search(query, k=k, filters=filters, mode=mode)  # type: ignore[arg-type]

    # -- asking ---------------------------------------------------------------------------------
    def _meaning(self, questions: list[str]) -> np.ndarray:
        """Vectors for comparing questions with each other: client and product names masked."""
        names = self.names()
        return self.embedder.queries([names.mask(q) for q in questions])

    def _client_of(self, question: str, client: str) -> str:
        """The client a question is about: the one it was asked for, else the only client it names."""
        return client or self.names().match(question).client

    def ask(self, question: str, filters: Filters | None = None, resolve: bool = True) -> AskResult:
        """Answer ``question``; it is logged, and recorded as a gap when refused or unsure.

        A question naming a client is answered from that client's documents and general ones
        (``resolve=False``: from every document).
        """
        question = self.index().repair(self.check_question(question))
        filters = filters or Filters()
        pending = self.embedder.query_soon(question)
        a = answer(self.index(), question, filters, qvec=pending, resolve=resolve)
        qvec = pending()
        said = verdict(a)
        client = a.client or filters.client
        masked = self.names().mask(question)
        vec = qvec if masked == question else None  # embedded when the gaps are grouped, off the hot path
        # Gaps are shown to every editor: they never point at documents restricted to some groups.
        store = self.index().store
        public = [h for h in a.sources if (d := store.document(h.path)) is not None and readable(d, frozenset())]
        nearest = _nearest(public)
        owner = public[0].owner if public else ""
        model = self.embedder.name
        source = _source(a.sources[0]) if a.answered and a.sources else None
        qid = self.data.record_question(question, client, a.answered, said, a.confidence, source, nearest, vec, model)
        gap_id = None
        if said != CONFIDENT:
            reason = "refused" if not a.answered else "uncertain"
            row = self.data.record_gap(question, reason, client, owner, nearest, vec, model, qid)
            gap_id = None if a.answered else row
        return AskResult(a, said, gap_id, qid, self.freshness_of(h.path for h in a.sources), question)

    def feedback(self, question: str, answer_text: str, helpful: bool, comment: str = "", client: str = "",
                 question_id: int | None = None) -> int:
        """Store feedback; "not helpful" opens a gap, placed like the question it is about."""
        if helpful:
            return self.data.record_feedback(question, answer_text, helpful, comment)
        model = self.embedder.name
        asked: QuestionRow | None = self.data.question(question_id, model) if question_id else None
        if asked is None or asked.question != question:
            asked = self.data.last_question(question, model)
        if asked is not None:
            client, nearest = client or asked.client, asked.nearest
        else:
            client = self._client_of(question, client)
            nearest = _nearest(self.index().search(self.check_question(question), k=3, filters=Filters(client=client)))
        vec = asked.vec if asked is not None and asked.vec is not None else self._meaning([question])[0]
        doc = self.index().store.document(nearest[0]) if nearest else None
        return self.data.record_feedback(question, answer_text, helpful, comment, client, doc.owner if doc else "",
                                         nearest, vec, model, asked.id if asked else None)

    # -- freshness --------------------------------------------------------------------------------
    def freshness_of(self, paths: Iterable[str], today: dt.date | None = None) -> dict[str, Freshness]:
        """Review status of indexed documents by path."""
        store = self.store()
        day = today or self.clock()
        out: dict[str, Freshness] = {}
        for path in dict.fromkeys(paths):
            doc = store.document(path)
            if doc is not None:
                out[path] = of_document(doc, day)
        return out

    def stale(self, today: dt.date | None = None, within_days: int = 0,
              groups: frozenset[str] | None = None) -> list[OwnerReviews]:
        """Documents due for review (and, with ``within_days``, coming due), per owner."""
        docs = [d for d in self.store().documents() if readable(d, groups)]
        return due_for_review(docs, today or self.clock(), within_days)

    def verify(self, path: str, today: dt.date | None = None) -> Freshness:
        """Mark a document verified today: its front matter ``verified`` changes, nothing else in the file."""
        doc = self.store().document(path)
        if doc is None:
            raise NotFound(f"no document {path!r}")
        day = today or self.clock()
        with self._content_lock:
            file = edits.target(self.settings.content_dir, path)
            text, bom = edits.read_text(file)
            changed = edits.set_front_matter(text, "verified", day.isoformat())
            if changed != text:
                edits.write_text(file, changed, bom)
        self.reindex()
        return freshness(day.isoformat(), doc.review_every, day)

    # -- what is due ------------------------------------------------------------------------------
    def client_documents(self, groups: frozenset[str] | None = None, client: str = "") -> dict[str, list[tuple[
            DocumentRow, Document]]]:
        """Client documents the reader may see, parsed, by client id (card first); unreadable files are logged."""
        out: dict[str, list[tuple[DocumentRow, Document]]] = {}
        rows = sorted((d for d in self.store().documents() if d.client and readable(d, groups)
                       and (not client or d.client == client)), key=lambda d: (d.client, d.type != "client", d.path))
        for row in rows:
            try:
                text = decode(resolve(self.settings.content_dir, row.path).read_bytes())
                out.setdefault(row.client, []).append((row, parse(text, row.path)))
            except (KbError, OSError) as exc:
                log.warning("skipping %s: %s", row.path, exc)
        return out

    def due(self, today: dt.date | None = None, within: int = 30, owner: str = "", client: str = "",
            groups: frozenset[str] | None = None) -> list[DueItem]:
        """Dated items of every client (or one) that are overdue, due within ``within`` days, or later.

        ``owner`` keeps the clients of owners whose name or e-mail holds it (case and ё folded).
        """
        day = today or self.clock()
        wanted = owner.lower().replace("ё", "е").strip()
        return [item for cid, docs in self.client_documents(groups, client).items()
                if not wanted or wanted in docs[0][0].owner.lower().replace("ё", "е")
                for item in _due_of(cid, docs, day, within)]

    def owners(self, name: str) -> list[str]:
        """Owners of client documents whose name or e-mail holds ``name`` (case and ё folded), each once."""
        wanted = _fold(name)
        found = {owner_name(d.owner): d.owner for d in self.store().documents() if d.client and d.owner
                 and wanted and wanted in _fold(d.owner)}
        return sorted(found)

    def handover(self, owner: str, to: str = "", today: dt.date | None = None,
                 groups: frozenset[str] | None = None) -> Handover:
        """For every client whose card ``owner`` owns: what is due, open questions and promises, open gaps,
        documents due for review, who signs and the parts nobody wrote."""
        day = today or self.clock()
        names = self.owners(owner)
        if len(names) != 1:
            raise NotFound(f"no owner {owner!r}" if not names else
                           f"{owner!r} names several owners: {', '.join(names)}")
        name = names[0]
        docs_by_client = {c: docs for c, docs in self.client_documents(groups).items()
                          if owner_name(docs[0][0].owner) == name}
        open_gaps = [g for g in self.gaps("open") if g.client in docs_by_client] if docs_by_client else []
        clients = []
        for cid, docs in docs_by_client.items():
            card = docs[0][0]
            lines = [(row.path, st) for row, doc in docs for st in statements(doc)]
            who = signers(lines)
            stale = [(row.path, row.title, f) for row, _ in docs if (f := of_document(row, day)).stale]
            clients.append(ClientHandover(
                cid, card.title, card.path if card.type == "client" else "", tuple(who),
                tuple(sorted(_due_of(cid, docs, day, 30), key=sort_key)), tuple(open_items(lines)),
                tuple(g for g in open_gaps if g.client == cid), tuple(stale), tuple(missing_parts(lines, who))))
        clients.sort(key=lambda c: (min((sort_key(i) for i in c.due), default=(9, dt.date.max)), c.title.lower()))
        return Handover(name, " ".join(to.split()), day.isoformat(), tuple(clients))

    def add_section(self, path: str, heading: str, text: str, groups: frozenset[str] | None = None) -> dict[str, Any]:
        """Append ``## heading`` with ``text`` to a document (a part its owner had not written), then reindex."""
        heading = clean_heading(heading)
        body = clean_answer(text)
        if not heading or not body:
            raise BadInput("a section needs a heading and a text")
        doc = self.store().document(path)
        if doc is None or not readable(doc, groups):
            raise NotFound(f"no document {path!r}")
        with self._content_lock:
            file = edits.target(self.settings.content_dir, path)
            existing, bom = edits.read_text(file)
            if any(s.heading == heading and len(s.heading_path) == 2 for s in parse(existing, path).sections):
                raise BadInput(f"{path} already has a section {heading!r}")
            updated = edits.append_block(existing, f"## {heading}\n\n{body}\n")
            edits.write_text(file, updated, bom)
        section = next(s for s in reversed(parse(updated, path).sections) if s.heading == heading)
        self.reindex()
        return {"path": path, "heading": heading, "anchor": anchor(section.heading_path),
                "start_line": section.start_line, "end_line": section.end_line}

    def reassign(self, owner: str, new_owner: str, client: str = "") -> list[str]:
        """Give ``owner``'s client documents (of one client, or all) to ``new_owner``: only their ``owner:`` line
        changes, then reindex. Returns the paths changed."""
        names = self.owners(owner)
        if len(names) != 1:
            raise NotFound(f"no owner {owner!r}" if not names else
                           f"{owner!r} names several owners: {', '.join(names)}")
        new_owner = " ".join(new_owner.split())
        if not new_owner:
            raise BadInput("say who takes the clients over")
        rows = [d for d in self.store().documents() if d.client and owner_name(d.owner) == names[0]
                and (not client or d.client == client)]
        if client and not rows:
            raise NotFound(f"{names[0]} owns no documents of client {client!r}")
        changed = []
        with self._content_lock:
            for row in rows:
                file = edits.target(self.settings.content_dir, row.path)
                text, bom = edits.read_text(file)
                updated = edits.set_front_matter(text, "owner", new_owner)
                if updated != text:
                    edits.write_text(file, updated, bom)
                    changed.append(row.path)
        if changed:
            self.reindex()
        return changed

    # -- importing --------------------------------------------------------------------------------
    def import_file(self, data: bytes, name: str, doc_type: str = "", client: str = "", owner: str = "",
                    dry_run: bool = False, reindex: bool = True) -> Imported:
        """A DOCX, PDF, HTML, text or e-mail file as a new Markdown document (kb.importing), written atomically
        under a free name (``-2``, ``-3``… when taken) and indexed; ``dry_run`` writes nothing."""
        if client and not any(d.type == "client" and d.client == client for d in self.store().documents()):
            raise BadInput(f"no client card for {client!r}: import the document without --client, or write the card")
        found = convert(data, name, doc_type=doc_type, client=client, owner=owner, today=self.clock(),
                        max_bytes=self.settings.max_file_bytes)
        parse(found.markdown, found.path)  # the document must read back as kb reads content
        with self._content_lock:
            stem, n = found.path.removesuffix(".md"), 1
            while (file := edits.target(self.settings.content_dir, found.path)).exists():
                n += 1
                found = replace(found, path=f"{stem}-{n}.md")
            if dry_run:
                return found
            edits.write_text(file, found.markdown)
        if reindex:
            self.reindex()
        return found

    # -- gaps -----------------------------------------------------------------------------------
    def _vectors(self, rows: list[GapRow] | list[QuestionRow]) -> dict[int, np.ndarray]:
        missing = [r for r in rows if r.vec is None]
        fresh = dict(zip((r.id for r in missing), self._meaning([r.question for r in missing]))) if missing else {}
        if fresh and isinstance(missing[0], GapRow):
            self.data.set_gap_vectors(fresh, self.embedder.name)
        elif fresh:
            self.data.set_question_vectors(fresh, self.embedder.name)
        return {r.id: r.vec if r.vec is not None else fresh[r.id] for r in rows}

    def gaps(self, status: str = "open") -> list[Gap]:
        """Knowledge gaps, newest first: open ones grouped by meaning per client, or answered ones."""
        if status not in GAP_STATUSES:
            raise BadInput(f"unknown gap status {status!r} (expected one of {', '.join(GAP_STATUSES)})")
        rows = self.data.gaps({"open": False, "answered": True}.get(status), self.embedder.name)
        names = self.names()
        docs = {d.path: d for d in self.index().store.documents()}
        return group(rows, self._vectors(rows), {r.id: names.products_in(r.question) for r in rows}, docs)

    def answer_gap(self, gap_id: int, text: str, author: str = "") -> GapAnswer:
        """Write the owner's answer as a new section of the right FAQ file, reindex, and close the gap."""
        body = clean_answer(text)
        if not body:
            raise BadInput("the answer is empty")
        gap = next((g for g in self.gaps("open") if gap_id in g.row_ids), None)
        if gap is None:
            if any(gap_id in g.row_ids for g in self.gaps("answered")):
                raise BadInput(f"gap {gap_id} is already answered")
            raise NotFound(f"no gap {gap_id}")
        docs = self.index().store.documents()
        card = next((d for d in docs if d.type == "client" and d.client == gap.client), None) if gap.client else None
        if gap.client and card is None:  # asked for a client kb has no card for: answer it as a general question
            gap = replace(gap, client="")
        rel = answer_file(gap, docs, authoring.slug(gap.client) or "client")
        day = self.clock()
        author = " ".join(author.split()) or owner_name(gap.owner)
        with self._content_lock:
            file = edits.target(self.settings.content_dir, rel)
            created = not file.exists()
            if created:
                existing, bom = self._new_faq(gap, card, docs, author, day), False
            else:
                existing, bom = edits.read_text(file)
            heading = unique_heading(clean_heading(gap.question), existing, day)
            updated = edits.append_block(existing, answer_section(heading, body, author, day))
            edits.write_text(file, updated, bom)
        section = next(s for s in reversed(parse(updated, rel).sections) if s.heading == heading)
        self.data.answer_gaps(gap.row_ids, rel, anchor(section.heading_path))
        self.reindex()
        return GapAnswer(gap.id, rel, heading, anchor(section.heading_path), section.start_line, section.end_line,
                         created, gap.count)

    def _new_faq(self, gap: Gap, card: DocumentRow | None, docs: list[DocumentRow], author: str,
                 day: dt.date) -> str:
        topic = card or next((d for d in docs if d.path == gap.topic_path), None)
        owner = gap.owner or author
        if not owner:
            raise BadInput("nobody owns this topic yet: say who answers (author)")
        title = f"FAQ: {topic.title}" if topic else "FAQ"
        products = tuple(topic.meta.get("products") or ()) if topic else ()
        return authoring.render("faq", title, owner, day, gap.client, products)

    # -- clients --------------------------------------------------------------------------------
    def documents_for(self, groups: frozenset[str] | None) -> list[DocumentRow]:
        """The indexed documents a reader with ``groups`` may see (None: all of them)."""
        return [d for d in self.index().store.documents() if readable(d, groups)]

    def document(self, path: str, groups: frozenset[str] | None = None) -> Rendered:
        """An indexed document the reader may see, rendered; anything else is not found."""
        doc = self.index().store.document(path)
        if doc is None or not readable(doc, groups):
            raise NotFound(f"no document {path!r}")
        return render(self.settings.content_dir, path, self.settings.max_file_bytes)

    def clients(self, groups: frozenset[str] | None = None) -> list[ClientSummary]:
        docs = [d for d in self.documents_for(groups) if d.client]
        titles: dict[str, str] = {}
        counts: dict[str, int] = {}
        for d in docs:
            counts[d.client] = counts.get(d.client, 0) + 1
            if d.type == "client" or d.client not in titles:
                titles[d.client] = d.title
        return sorted((ClientSummary(c, titles[c], counts[c]) for c in counts), key=lambda c: c.title.lower())

    def client(self, client_id: str, groups: frozenset[str] | None = None) -> tuple[ClientSummary, list[DocumentInfo]]:
        summary = next((c for c in self.clients(groups) if c.id == client_id), None)
        if summary is None:
            raise NotFound(f"no client {client_id!r}")
        docs = [
            DocumentInfo(d.path, d.title, d.type, d.owner, d.verified, d.review_every)
            for d in self.documents_for(groups)
            if d.client == client_id
        ]
        return summary, docs

    def brief(self, client_id: str, today: dt.date | None = None, groups: frozenset[str] | None = None) -> Brief:
        """What to know before a call with the client, from their documents, every line cited.

        ``groups`` are the reader's (None reads everything): documents restricted to others are left out.
        """
        day = today or self.clock()
        rows = sorted((d for d in self.documents_for(groups) if d.client == client_id),
                      key=lambda d: (d.type != "client", d.path))
        if not rows:
            raise NotFound(f"no client {client_id!r}")
        docs: list[ClientDocument] = []
        for row in rows:
            try:
                text = decode(resolve(self.settings.content_dir, row.path).read_bytes())
                docs.append(ClientDocument(parse(text, row.path), text, of_document(row, day)))
            except (KbError, OSError) as exc:
                log.warning("brief for %s skips %s: %s", client_id, row.path, exc)
        card = next((r for r in rows if r.type == "client"), rows[0])
        products = list(dict.fromkeys(p for d in docs for p in d.doc.meta.products))
        titles = self._product_titles()
        changes = self.data.changes([d.doc.path for d in docs], _epoch(day - dt.timedelta(days=RECENT_DAYS)))
        due = sorted((i for i in self.due(day, client=client_id, groups=groups)  # due within 30 days
                      if i.status in (OVERDUE, DUE)), key=lambda i: (i.status != OVERDUE, i.item.date))
        derived = {
            "due": due_lines(due, {d.doc.path: d.freshness.stale for d in docs}),
            "changes": change_lines(changes[:5], {d.doc.path: d for d in docs}) + review_lines(docs),
            "questions": self._asked_most(client_id),
            "facts": self._facts(products, titles, docs, day, groups),
        }
        return assemble(client_id, card.title, card.owner, day, docs, titles, derived)

    def _product_titles(self) -> dict[str, str]:
        return {d.meta["products"][0]: d.title for d in self.index().store.documents()
                if d.type == "product" and d.meta.get("products") and len(d.meta["products"]) == 1
                and PurePosixPath(d.path).stem == d.meta["products"][0]}

    def _asked_most(self, client_id: str, top: int = 5) -> list[Line]:
        """The client's questions grouped by meaning, most asked first.

        A group counts as answered only when kb answered its latest question confidently; it is cited to where
        that answer came from. Any other group is unanswered, uncited, and carries the id of its open gap (the
        gap whose rows were recorded with one of the group's questions, as :meth:`gaps` groups them).
        """
        rows = self.data.questions(client_id, self.embedder.name)
        if not rows:
            return []
        vecs = self._vectors(rows)
        names = self.names()
        groups = cluster(np.stack([vecs[r.id] for r in rows]), [names.products_in(r.question) for r in rows])
        ranked = sorted(groups, key=lambda g: (-len(g), -max(g)))[:top]
        gap_of: dict[str, int] = {}
        if any(rows[max(m)].verdict != CONFIDENT for m in ranked):
            # Open gaps are grouped per client, so grouping this client's rows alone gives the ids gaps() gives.
            open_rows = [r for r in self.data.gaps(False, self.embedder.name) if r.client == client_id]
            if open_rows:
                found = group(open_rows, self._vectors(open_rows),
                              {r.id: names.products_in(r.question) for r in open_rows}, {})
                gap_id = {row_id: g.id for g in found for row_id in g.row_ids}
                gap_of = {r.question: gap_id[r.id] for r in sorted(open_rows, key=lambda r: r.id)}
        out = []
        for members in ranked:
            latest = rows[max(members)]
            newest_first = sorted(members, reverse=True)
            if latest.verdict == CONFIDENT:
                source = latest.source or next((rows[i].source for i in newest_first if rows[i].source), None)
                cite = Citation(source["path"], tuple(source["heading_path"]), source["start_line"],
                                source["end_line"]) if source else None
                out.append(Line(latest.question, cite, kind="question", count=len(members)))
            else:
                gap = next((gap_of[rows[i].question] for i in newest_first if rows[i].question in gap_of), None)
                out.append(Line(latest.question, None, kind="question", count=len(members), answered=False,
                                gap_id=gap))
        return out

    def _facts(self, products: list[str], titles: dict[str, str], docs: list[ClientDocument], day: dt.date,
               groups: frozenset[str] | None) -> list[Line]:
        """Per product the client uses, the sentences of that product's own pages closest to how they use it,
        about the editions they have.

        The rule: a product's editions are the names its pages' tables list under "Редакция"/"Edition"
        (:meth:`_editions`); the client's are those their documents' products part names after the product's
        name ("Склад Про **Pro**", "CRM Норд · Бизнес"). A section whose headings name editions, none of them the
        client's ("SLA Корпоративный" for a Бизнес client), is left out; within a section, the closest sentence
        that names no edition or one of theirs is quoted, and a section without one is left out. When the
        client's edition cannot be read (or the product has none), nothing is left out.
        """
        names = self.names()
        spellings = {n.id: n.spellings for n in names.names if n.kind == "product"}
        parts = [document_parts(d.doc, False) for d in docs]
        said = [line.text for found in parts for key, lines in found.items()
                if key in ("products", "contract", "promises", "issues") for line in lines]
        owned = [line.text for found in parts for line in found.get("products", [])]
        index = self.index()
        out: list[Line] = []
        for product in products:
            title = titles.get(product, product)
            own = spellings.get(product, ())
            editions = self._editions(product)
            have = client_editions(owned, product, editions, spellings)
            context = " ".join(t for t in said if product in names.products_in(t))[:600] or title
            where = Filters(type="product", product=product, groups=groups)
            hits = [h for h in index.search(context, k=8, filters=where)
                    if (doc := index.store.document(h.path)) and doc.meta.get("products") == [product]]
            qvec = self.embedder.query(context)
            chosen: list[tuple[Hit, str]] = []
            for h in hits:
                if len(chosen) == 2:
                    break
                if have and not about_editions(" › ".join(h.heading_path[1:]), have, editions, own):
                    continue
                span = best_span(index, qvec, h, context)[0]
                if have and not about_editions(span, have, editions, own):
                    units = spans(h.text)
                    vecs = index.span_vectors_of([h.id]).get(h.id)
                    order = (np.argsort(-(vecs @ qvec), kind="stable") if vecs is not None and len(vecs) == len(units)
                             else range(len(units)))
                    span = next((units[j].text for j in order if about_editions(units[j].text, have, editions, own)),
                                "")
                    if not span:
                        continue
                chosen.append((h, span))
            stale = {p: f.stale for p, f in self.freshness_of((h.path for h, _ in chosen), day).items()}
            out += fact_lines(title, [h for h, _ in chosen], [span for _, span in chosen], stale)
        return out

    def _editions(self, product: str) -> list[frozenset[str]]:
        """A product's editions, read from the edition tables of its pages (see :func:`kb.brief.editions_of`)."""
        tables: list[list[str]] = []
        for row in sorted(self.index().store.documents(), key=lambda d: d.path):
            if row.type == "product" and row.meta.get("products") == [product]:
                try:
                    text = decode(resolve(self.settings.content_dir, row.path).read_bytes())
                    tables += edition_tables(parse(text, row.path))
                except (KbError, OSError) as exc:
                    log.warning("editions of %s skip %s: %s", product, row.path, exc)
        return editions_of(tables)

    # -- bus factor -----------------------------------------------------------------------------
    def coverage(self, today: dt.date | None = None) -> tuple[list[ClientCoverage], list[OwnerLoad]]:
        """Per client: documents, owners, questions asked and answered; and who alone covers which clients."""
        per_client = by_client(self.store().documents(), self.data.question_counts(), today or self.clock())
        return per_client, sole_owners(per_client)
