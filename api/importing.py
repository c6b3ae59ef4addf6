"""Uploading documents: a DOCX, PDF, HTML, text or e-mail file becomes a Markdown document (kb.importing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool

from kb.service import KnowledgeBase
from kb.users import User

Role = Callable[[Request], User]
Audit = Callable[[User, str, str, list[str]], None]


def add_routes(app: FastAPI, kb: KnowledgeBase, reader: Role, editor: Role, audit: Audit) -> None:
    """``POST /api/import``: the request body is the file itself (editors)."""

    @app.post("/api/import")
    async def import_document(request: Request, name: str = Query(min_length=1, max_length=255),
                              type: str = "", client: str = "", owner: str = "",
                              dry_run: bool = False) -> dict[str, Any]:
        """Import the file in the request body (``name`` is its file name; its content decides what it is) as a
        new Markdown document: front matter with ``source`` and ``imported``, headings, lists and tables kept.
        The owner defaults to the signed-in user. ``dry_run`` returns the Markdown and writes nothing."""
        user = editor(request)
        data = await request.body()
        found = await run_in_threadpool(kb.import_file, data, name, type, client, owner or user.name, dry_run)
        if not dry_run:
            audit(user, "import", name, [found.path])
        return {**found.as_dict(), "dry_run": dry_run}
