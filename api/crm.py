"""Routes for CRM imports (added to the app by create_app): POST /api/import-crm with the export as the body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from fastapi import FastAPI, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kb import crm
from kb.service import KnowledgeBase
from kb.users import User

Role = Callable[[Request], User]
Audit = Callable[[User, str, str, list[str]], None]


class CrmFileOut(BaseModel):
    action: str = Field(description="created, updated, unchanged or skipped")
    path: str
    client: str
    title: str
    company: str = Field(description="the company as the CRM names it (spellings that met in one card: ' / ')")
    contacts: int
    deals: int
    diff: str = Field(description="unified diff of the card (empty when unchanged or skipped)")
    reason: str = Field(default="", description="why a company was skipped")


class CrmImportOut(BaseModel):
    source: str
    format: str
    kind: str = Field(description="csv or xlsx, as read from the file's content")
    dry_run: bool
    rows: int
    skipped_rows: int = Field(description="rows that name no company")
    files: list[CrmFileOut]
    changed: list[str]
    counts: dict[str, int]
    reindexed: bool


def add_routes(app: FastAPI, kb: KnowledgeBase, reader: Role, editor: Role, audit: Audit) -> None:
    @app.post("/api/import-crm", response_model=CrmImportOut, openapi_extra={"requestBody": {
        "required": True, "description": "the export file itself (CSV or XLSX), up to KB_MAX_FILE_MB",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def import_crm(request: Request, fmt: Literal["amocrm", "bitrix24"] = Query(alias="format"),
                         dry_run: bool = False, name: str = Query(default="", max_length=200),
                         owner: str = Query(default="", max_length=200,
                                            description="owns new cards whose rows name no «Ответственный» "
                                                        "(default: the signed-in user)")
                         ) -> CrmImportOut:
        """Create or update client cards from an amoCRM or Bitrix24 export (CSV or XLSX, told by content):
        new companies get a card from the client template, existing cards only their «Контакты из CRM» and
        «Сделки из CRM» sections. ``dry_run`` writes nothing and returns the diffs. Editors only."""
        user = editor(request)
        data = await request.body()
        report = await run_in_threadpool(crm.import_crm, kb, data, fmt, name, dry_run, owner or user.name,
                                         user.groups)
        audit(user, "import-crm", report.source + (" (dry run)" if dry_run else ""),
              [] if dry_run else report.changed)
        return CrmImportOut.model_validate(report.as_dict())
