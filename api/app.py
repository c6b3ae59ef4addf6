"""The HTTP API and the web app: a thin adapter over :class:`kb.service.KnowledgeBase`."""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb.backup import ServerLock
from kb.due import by_owner
from kb.embedding import Embedder
from kb.errors import IndexMissing, KbError, RateLimited
from kb.freshness import Freshness
from kb.search import Filters, Hit
from kb.service import KnowledgeBase
from kb.settings import Settings
from kb.users import User, Users
from kb.watch import ContentWatcher

from . import crm, editing, importing
from .auth import Auth
from .guards import BehindProxy, BodyLimit, route_path, trusted_networks
from .logs import RequestLog

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


class HitOut(BaseModel):
    path: str
    heading: str
    heading_path: list[str]
    text: str
    score: float
    start_line: int
    end_line: int
    anchor: str
    title: str = ""
    owner: str = ""
    stale: bool = Field(default=False, description="the document's review is due (verified + review_every)")
    verified: str = ""
    review_due: str = ""


class SearchIn(BaseModel):
    query: str = Field(min_length=1, description="What to look for, in plain language.")
    k: int = Field(default=5, ge=1, le=50)
    filters: dict[str, str] | None = Field(default=None, description="client, type, product, tag")


class SearchOut(BaseModel):
    hits: list[HitOut]


class AskIn(BaseModel):
    question: str = Field(min_length=1)
    client: str | None = Field(default=None, description="answer from this client's documents and general ones")
    filters: dict[str, str] | None = None
    resolve_client: bool = Field(default=True, description="false: ignore the client the question names")


class ClientRef(BaseModel):
    id: str
    title: str


class AskOut(BaseModel):
    answered: bool
    answer: str | None
    confidence: float
    verdict: str
    owner: str
    sources: list[HitOut]
    gap_id: int | None = None
    question_id: int = Field(default=0, description="send it back with feedback on this answer")
    question: str = Field(default="", description="the question as understood (a wrong keyboard layout repaired)")
    client: ClientRef | None = Field(default=None, description="the client the question was understood to be about")
    client_candidates: list[ClientRef] = Field(default_factory=list,
                                               description="clients the question names equally (none chosen)")
    note: str = Field(default="", description="why a question about a client was refused, and what is written")


class SectionOut(BaseModel):
    heading: str
    anchor: str
    level: int
    start_line: int
    end_line: int


class FreshnessOut(BaseModel):
    verified: str
    review_every_days: int
    review_due: str
    stale: bool
    overdue_days: int


class DocumentOut(BaseModel):
    path: str
    title: str
    meta: dict[str, Any]
    html: str
    sections: list[SectionOut]
    freshness: FreshnessOut | None = None


class VerifiedOut(FreshnessOut):
    path: str


class ClientOut(BaseModel):
    id: str
    title: str
    documents: int


class ClientsOut(BaseModel):
    clients: list[ClientOut]


class DocumentInfoOut(BaseModel):
    path: str
    title: str
    type: str
    owner: str
    verified: str
    review_every: str


class ClientDetailOut(BaseModel):
    id: str
    title: str
    documents: list[DocumentInfoOut]


class FeedbackIn(BaseModel):
    question: str = Field(min_length=1, max_length=10_000)
    answer: str = Field(default="", max_length=10_000)
    helpful: bool
    comment: str = Field(default="", max_length=5_000)
    client: str = Field(default="", max_length=200)
    question_id: int | None = Field(default=None, description="the question_id of the answer this is about")


class FeedbackOut(BaseModel):
    id: int


class GapOut(BaseModel):
    id: int = Field(description="the gap's first question; answer it at /api/gaps/{id}/answer")
    question: str
    examples: list[str]
    client: str
    topic: str
    topic_path: str
    reason: str
    reasons: dict[str, int]
    owner: str
    count: int
    first_seen: float
    last_seen: float
    status: str
    answer_path: str
    answer_anchor: str


class GapsOut(BaseModel):
    gaps: list[GapOut]


class GapAnswerIn(BaseModel):
    answer: str = Field(min_length=1, max_length=10_000, description="Markdown; becomes a section under the question")
    author: str = Field(default="", max_length=200, description="who answers; the gap's owner when empty")


class GapAnswerOut(BaseModel):
    gap_id: int
    path: str
    heading: str
    anchor: str
    start_line: int
    end_line: int
    created: bool
    questions: int


class CitationOut(BaseModel):
    path: str
    heading_path: list[str]
    start_line: int
    end_line: int
    anchor: str
    stale: bool


class BriefLineOut(BaseModel):
    text: str
    label: str
    kind: str
    date: str
    count: int
    answered: bool
    source: CitationOut | None
    gap_id: int | None = Field(default=None, description="the open gap of a question kb did not answer confidently")


class BriefPartOut(BaseModel):
    key: str
    title: str
    missing: bool
    hint: str = Field(description="the heading to add when the part is missing")
    more: int
    lines: list[BriefLineOut]


class BriefOut(BaseModel):
    client: str
    title: str
    owner: str
    card: str
    today: str
    documents: list[str]
    parts: list[BriefPartOut]


class DueDocumentOut(FreshnessOut):
    path: str
    title: str
    type: str
    client: str
    owner: str


class OwnerReviewsOut(BaseModel):
    owner: str
    documents: list[DueDocumentOut]


class DueSourceOut(BaseModel):
    path: str
    heading_path: list[str]
    start_line: int
    end_line: int
    anchor: str


class DueItemOut(BaseModel):
    date: str
    kind: str = Field(description="contract end, notice deadline, promise, open question, document expiry, event")
    status: str = Field(description="overdue, due (within the window) or later")
    days: int = Field(description="days from today (negative: past)")
    text: str
    part: str
    client: str
    title: str
    owner: str
    done: str
    source: DueSourceOut


class ClientDueOut(BaseModel):
    client: str
    title: str
    items: list[DueItemOut]


class OwnerDueOut(BaseModel):
    owner: str
    clients: list[ClientDueOut]


class DueOut(BaseModel):
    today: str
    within: int
    owners: list[OwnerDueOut]


class ReassignIn(BaseModel):
    to: str = Field(min_length=1, max_length=200)
    client: str = ""


class ReassignOut(BaseModel):
    owner: str
    to: str
    changed: list[str]


class SectionIn(BaseModel):
    heading: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=20_000)


class SectionAddedOut(BaseModel):
    path: str
    heading: str
    anchor: str
    start_line: int
    end_line: int


class StaleOut(BaseModel):
    today: str
    owners: list[OwnerReviewsOut]


class ClientCoverageOut(BaseModel):
    client: str
    title: str
    documents: int
    owners: list[str]
    asked: int
    answered: int
    stale: int
    single_owner: bool


class OwnerLoadOut(BaseModel):
    owner: str
    clients: list[str]


class CoverageOut(BaseModel):
    clients: list[ClientCoverageOut]
    single_owner: list[OwnerLoadOut]


class ReindexOut(BaseModel):
    files: int
    added: int
    updated: int
    removed: int
    unchanged: int
    passages: int
    embedded: int
    errors: list[dict[str, str]]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


def _hits(hits: list[Hit], fresh: dict[str, Freshness]) -> list[HitOut]:
    out = []
    for h in hits:
        f = fresh.get(h.path)
        extra = {"stale": f.stale, "verified": f.verified, "review_due": f.review_due} if f else {}
        out.append(HitOut.model_validate({**{k: v for k, v in h.as_dict().items() if k in HitOut.model_fields},
                                          **extra}))
    return out


# Paths whose request body is a file or a whole document (imports, edits, previews): up to KB_MAX_FILE_MB.
UPLOADS = ("/api/import", "/api/documents", "/api/preview")
_ROUTE_IDS = re.compile(r"^(/api/(?:clients|gaps|handover)/)[^/]+(/\w+)?$")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class LoginIn(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class MeOut(BaseModel):
    name: str
    role: str
    groups: list[str] | None
    csrf: str
    open: bool


class AuditEntryOut(BaseModel):
    at: float
    user: str
    action: str
    detail: str
    documents: list[str]


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("kb_requests_total", "HTTP requests", ["route", "status"], registry=self.registry)
        self.latency = Histogram("kb_request_seconds", "HTTP request latency", ["route"], registry=self.registry)
        self.refusals = Counter("kb_refusals_total", "Questions kb refused to answer", registry=self.registry)
        self.passages = Gauge("kb_index_passages", "Passages in the serving index", registry=self.registry)


def _route(path: str) -> str:
    """The metric label of a request path: one per route, not per client, gap or document."""
    route = path if path.startswith(("/api/", "/healthz", "/metrics")) else "/ui"
    if route.startswith("/api/documents/"):
        route = ("/api/documents/verify" if route.endswith("/verify") else
                 "/api/documents/sections" if route.endswith("/sections") else "/api/documents")
    return _ROUTE_IDS.sub(r"\1{id}\2", route)


class _Measured:
    """Counts and times every HTTP request by route and status.

    A plain ASGI wrapper: Starlette's ``@app.middleware("http")`` runs each request through an extra task
    and stream, which cost about a millisecond a request here.
    """

    def __init__(self, app: ASGIApp, metrics: _Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route = _route(route_path(scope))
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)


def create_app(settings: Settings, embedder: Embedder | None = None,
               clock: Callable[[], dt.date] | None = None) -> FastAPI:
    """The app for ``settings``: the model and index load once, at start-up; ``clock`` says what day it is
    (default: the settings' ``KB_TODAY``, else the real date)."""
    clock = clock or settings.clock()
    kb = KnowledgeBase(settings, embedder, clock)
    users = Users(settings.data_dir, settings.database_url)
    auth = Auth(users, settings.rate_limit, cookie_path=settings.prefix + "/")
    trusted = trusted_networks(settings.trusted_proxies)
    metrics = _Metrics()
    errors: dict[int | str, dict[str, Any]] = {
        s: {"model": ErrorOut} for s in (400, 401, 403, 404, 413, 422, 429, 503)}

    def reader(request: Request) -> User:
        return auth.require(request, "reader")

    def editor(request: Request) -> User:
        return auth.require(request, "editor")

    def admin(request: Request) -> User:
        return auth.require(request, "admin")

    def audit(user: User, action: str, detail: str, paths: list[str]) -> None:
        if settings.audit:
            users.audit(user.name, action, detail, sorted(set(paths)))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        lock = ServerLock.hold(settings.data_dir)  # `kb restore` refuses while a server holds the data
        try:
            kb.index()
        except IndexMissing:
            log.warning("no index in %s yet: the API answers 503 until one is built", settings.index_dir)
        watcher = ContentWatcher(str(settings.content_dir), kb.reindex) if settings.watch else None
        if watcher:
            watcher.start()
        follower = kb.follower()  # on a shared database: load each generation another server publishes
        if follower:
            follower.start()
        yield
        if follower:
            follower.stop()
        if watcher:
            watcher.stop()
        if settings.database_url:  # the pools' threads end with the server (an app on SQLite may start again)
            kb.close()
            users.close()
        lock.release()

    app = FastAPI(title="kb", description="Answers from the sales knowledge base, with sources.",
                  lifespan=lifespan, responses=errors)
    app.state.kb = kb

    @app.exception_handler(KbError)
    async def kb_error(_: Request, exc: KbError) -> JSONResponse:
        response = _error(exc.status, exc.code, str(exc))
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(422, "invalid_request", f"{where or 'body'}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, "http", str(exc.detail))

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        try:
            index = kb.index()
        except IndexMissing:
            return {"status": "no index"}
        return {"status": "ok", "generation": index.generation}  # no counts: open to all, even with users

    @app.get("/metrics", include_in_schema=False)
    def metrics_route(request: Request) -> Response:
        admin(request)
        try:
            metrics.passages.set(kb.index().size)
        except IndexMissing:
            metrics.passages.set(0)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/api/search", response_model=SearchOut)
    def search(body: SearchIn, request: Request) -> SearchOut:
        user = reader(request)
        hits = kb.search(body.query, k=body.k, filters=replace(Filters.of(body.filters), groups=user.groups))
        audit(user, "search", body.query, [h.path for h in hits])
        return SearchOut(hits=_hits(hits, kb.freshness_of(h.path for h in hits)))

    @app.post("/api/ask", response_model=AskOut)
    def ask(body: AskIn, request: Request) -> AskOut:
        user = reader(request)
        filters = Filters.of({**(body.filters or {}), **({"client": body.client} if body.client else {})})
        result = kb.ask(body.question, replace(filters, groups=user.groups), resolve=body.resolve_client)
        a = result.answer
        audit(user, "ask", body.question, [h.path for h in a.sources])
        if not a.answered:
            metrics.refusals.inc()
        names = kb.names()
        return AskOut(answered=a.answered, answer=a.answer, confidence=a.confidence, verdict=result.verdict,
                      owner=a.owner, sources=_hits(a.sources, result.freshness), gap_id=result.gap_id,
                      question_id=result.question_id, question=result.question,
                      client=ClientRef(id=a.client, title=names.title(a.client)) if a.client else None,
                      client_candidates=[ClientRef(id=c, title=names.title(c)) for c in a.candidates],
                      note=a.note)

    @app.get("/api/documents/{path:path}", response_model=DocumentOut)
    def document(path: str, request: Request) -> DocumentOut:
        user = reader(request)
        d = kb.document(path, user.groups)
        audit(user, "read", path, [path])
        f = kb.freshness_of([path]).get(path)
        return DocumentOut(path=d.path, title=d.title, meta=d.meta, html=d.html,
                           sections=[SectionOut(**vars(s)) for s in d.sections],
                           freshness=FreshnessOut.model_validate(f.as_dict()) if f else None)

    @app.post("/api/documents/{path:path}/verify", response_model=VerifiedOut)
    def verify(path: str, request: Request) -> VerifiedOut:
        """Mark the document verified today: its front matter ``verified`` is rewritten, nothing else."""
        user = editor(request)
        kb.document(path, user.groups)
        return VerifiedOut.model_validate({"path": path, **kb.verify(path).as_dict()})

    @app.get("/api/clients", response_model=ClientsOut)
    def clients(request: Request) -> ClientsOut:
        return ClientsOut(clients=[ClientOut(**vars(c)) for c in kb.clients(reader(request).groups)])

    @app.get("/api/clients/{client_id}", response_model=ClientDetailOut)
    def client(client_id: str, request: Request) -> ClientDetailOut:
        summary, docs = kb.client(client_id, reader(request).groups)
        return ClientDetailOut(id=summary.id, title=summary.title, documents=[DocumentInfoOut(**vars(d)) for d in docs])

    @app.get("/api/clients/{client_id}/brief", response_model=BriefOut)
    def brief(client_id: str, request: Request) -> BriefOut:
        """Everything to read before a call with the client, each line cited."""
        return BriefOut.model_validate(kb.brief(client_id, groups=reader(request).groups).as_dict())

    @app.post("/api/feedback", response_model=FeedbackOut)
    def feedback(body: FeedbackIn, request: Request) -> FeedbackOut:
        reader(request)
        return FeedbackOut(id=kb.feedback(body.question, body.answer, body.helpful, body.comment, body.client,
                                          body.question_id))

    @app.get("/api/gaps", response_model=GapsOut)
    def gaps(request: Request, status: Literal["open", "answered", "all"] = "open") -> GapsOut:
        """Refused, unsure and unhelpful questions grouped by meaning, newest first."""
        editor(request)
        return GapsOut(gaps=[GapOut.model_validate(g.as_dict()) for g in kb.gaps(status)])

    @app.post("/api/gaps/{gap_id}/answer", response_model=GapAnswerOut)
    def answer_gap(gap_id: int, body: GapAnswerIn, request: Request) -> GapAnswerOut:
        """Append the answer to the right FAQ file in the content folder, reindex, and close the gap."""
        editor(request)
        return GapAnswerOut(**vars(kb.answer_gap(gap_id, body.answer, body.author)))

    @app.get("/api/stale", response_model=StaleOut)
    def stale(request: Request,
              within: int = Query(default=0, ge=0, le=3650, description="also those due within N days")) -> StaleOut:
        """Documents whose review is due, per owner."""
        user = reader(request)
        today = clock()
        owners = kb.stale(today, within, user.groups)
        return StaleOut(today=today.isoformat(), owners=[OwnerReviewsOut.model_validate(o.as_dict()) for o in owners])

    @app.get("/api/due", response_model=DueOut)
    def due(request: Request, within: int = Query(default=30, ge=0, le=3650), owner: str = "", client: str = "",
            today: dt.date | None = None) -> DueOut:
        """Every client's dated items: overdue first, then due within the window, then later; by owner, client."""
        user = reader(request)
        day = today or clock()
        owners = by_owner(kb.due(day, within, owner, client, user.groups))
        return DueOut.model_validate({"today": day.isoformat(), "within": within,
                                      "owners": [o.as_dict() for o in owners]})

    @app.get("/api/handover/{owner}")
    def handover(owner: str, request: Request, to: str = "", today: dt.date | None = None) -> dict[str, Any]:
        """For every client of ``owner``: what is due, open questions and promises, open gaps, stale documents,
        who signs, the parts nobody wrote; and the checklist of what the person leaving must still write."""
        user = reader(request)
        return kb.handover(owner, to, today or clock(), user.groups).as_dict()

    @app.post("/api/handover/{owner}/reassign", response_model=ReassignOut)
    def reassign(owner: str, body: ReassignIn, request: Request) -> ReassignOut:
        """Give the owner's client documents (or one client's) to another person: only ``owner:`` changes."""
        user = editor(request)
        changed = kb.reassign(owner, body.to, body.client)
        audit(user, "reassign", f"{owner} -> {body.to}" + (f" ({body.client})" if body.client else ""), changed)
        return ReassignOut(owner=owner, to=body.to, changed=changed)

    @app.post("/api/documents/{path:path}/sections", response_model=SectionAddedOut)
    def add_section(path: str, body: SectionIn, request: Request) -> SectionAddedOut:
        """Add a section to a document (a part of a client card nobody wrote), then reindex."""
        user = editor(request)
        added = kb.add_section(path, body.heading, body.text, user.groups)
        audit(user, "add section", f"{path}: {body.heading}", [path])
        return SectionAddedOut.model_validate(added)

    @app.get("/api/coverage", response_model=CoverageOut)
    def coverage(request: Request) -> CoverageOut:
        """Per client: documents, owners, questions asked and answered; who alone covers which clients."""
        editor(request)
        clients, loads = kb.coverage()
        return CoverageOut(clients=[ClientCoverageOut.model_validate(c.as_dict()) for c in clients],
                           single_owner=[OwnerLoadOut.model_validate(o.as_dict()) for o in loads])

    @app.post("/api/reindex", response_model=ReindexOut)
    def reindex(request: Request) -> ReindexOut:
        editor(request)
        return ReindexOut(**kb.reindex().as_dict())  # type: ignore[arg-type]

    @app.get("/api/me", response_model=MeOut)
    def me(request: Request) -> MeOut:
        """Who is signed in; the web app reads its CSRF token here."""
        user = reader(request)
        groups = None if user.groups is None else sorted(user.groups)
        return MeOut(name=user.name, role=user.role, groups=groups, csrf=auth.csrf(request), open=auth.open())

    @app.post("/auth/login", response_model=MeOut)
    def login(body: LoginIn, request: Request, response: Response) -> MeOut:
        """Sign the web app in with a token: an HttpOnly, SameSite=Strict session cookie."""
        user, csrf = auth.sign_in(body.token.strip(), request, response)
        return MeOut(name=user.name, role=user.role, groups=sorted(user.groups or ()), csrf=csrf, open=False)

    @app.post("/auth/logout", status_code=204)
    def logout(request: Request, response: Response) -> None:
        auth.sign_out(request, response)

    @app.get("/api/audit", response_model=AuditOut)
    def audit_log(request: Request) -> AuditOut:
        """Who asked what and which documents were cited (admins only)."""
        admin(request)
        return AuditOut(entries=[AuditEntryOut(**vars(e)) for e in users.audit_log()])

    page = (STATIC / "index.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        """The web app; its links carry the root path (behind a proxy under /kb/: /kb/static/...)."""
        root = html.escape(str(request.scope.get("root_path", "")).rstrip("/"), quote=True)
        return HTMLResponse(page.replace('="static/', f'="{root}/static/'))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(_Measured, metrics=metrics)
    editing.add_routes(app, kb, reader, editor, audit)
    importing.add_routes(app, kb, reader, editor, audit)
    crm.add_routes(app, kb, reader, editor, audit)
    app.add_middleware(BodyLimit, limit=settings.max_request_kb * 1024, uploads=UPLOADS,
                       upload_limit=settings.max_file_bytes + 64 * 1024)
    app.add_middleware(RequestLog, log_questions=settings.log_questions)
    app.add_middleware(BehindProxy, root_path=settings.prefix, trusted=trusted)  # outermost: the real client
    return app
