"""The HTTP API: a thin adapter over kb (no retrieval logic here)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kb.embedding import load_embedder
from kb.errors import IndexMissing, KbError, QuestionTooLong
from kb.search import Filters, Index
from kb.service import ask
from kb.settings import Settings


class HitOut(BaseModel):
    path: str
    heading: str
    heading_path: list[str]
    text: str
    score: float
    start_line: int
    end_line: int


class SearchIn(BaseModel):
    query: str = Field(min_length=1)
    k: int = Field(default=5, ge=1, le=50)
    filters: dict[str, str] | None = None


class SearchOut(BaseModel):
    hits: list[HitOut]


class AskIn(BaseModel):
    question: str = Field(min_length=1)
    client: str | None = None
    filters: dict[str, str] | None = None


class AskOut(BaseModel):
    answered: bool
    answer: str | None
    confidence: float
    verdict: str
    owner: str
    sources: list[HitOut]
    gap_id: int | None = None


class _State:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index: Index | None = None

    def current(self) -> Index:
        if self.index is None:
            self.index = Index(self.settings.index_dir, load_embedder(self.settings.model, self.settings.cache_dir))
        return self.index


def _hits(hits: list[Any]) -> list[HitOut]:
    return [HitOut(**{k: v for k, v in h.as_dict().items() if k in HitOut.model_fields}) for h in hits]


def create_app(settings: Settings) -> FastAPI:
    """The app for ``settings``; the model and index load once, on first use."""
    app = FastAPI(title="kb", description="Answers from the sales knowledge base, with sources.")
    state = _State(settings)
    app.state.kb = state

    @app.exception_handler(KbError)
    async def kb_error(_: Request, exc: KbError) -> JSONResponse:
        return JSONResponse({"error": {"code": exc.code, "message": str(exc)}}, status_code=exc.status)

    def check(text: str) -> None:
        if len(text) > settings.max_question_chars:
            raise QuestionTooLong(f"the question is {len(text)} characters; the limit is {settings.max_question_chars}")

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        try:
            index = state.current()
        except IndexMissing:
            return {"status": "no index"}
        return {"status": "ok", "passages": index.size, "generation": index.generation}

    @app.post("/api/search", response_model=SearchOut)
    def search(body: SearchIn) -> SearchOut:
        check(body.query)
        hits = state.current().search(body.query, k=body.k, filters=Filters.of(body.filters))
        return SearchOut(hits=_hits(hits))

    @app.post("/api/ask", response_model=AskOut)
    def ask_route(body: AskIn) -> AskOut:
        check(body.question)
        filters = Filters.of({**(body.filters or {}), **({"client": body.client} if body.client else {})})
        result = ask(state.current(), settings, body.question, filters)
        a = result.answer
        return AskOut(answered=a.answered, answer=a.answer, confidence=a.confidence, verdict=result.verdict,
                      owner=a.owner, sources=_hits(a.sources), gap_id=result.gap_id)

    return app
