"""Routes for editing (added to the app by create_app): source, preview, save, versions, new documents.

Every route here is for editors. Their routes go in front of the app's own: ``GET /api/documents/{path}``
takes any path, so ``/api/documents/<doc>.md/source`` would otherwise be read as a document path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.convertors import Convertor, register_url_convertor

from kb.editing import Conflict, Editing, Invalid, Saved, finding_dict, preview
from kb.lint import Finding
from kb.service import KnowledgeBase
from kb.users import User

from .auth import OPEN_USER

Role = Callable[[Request], User]
Audit = Callable[[User, str, str, list[str]], None]
DEFAULT_NAME = "Editor"  # who edits in open mode when the request names nobody


class _DocPath(Convertor[str]):
    """A content path ending in .md or .markdown: ``/api/documents/notes/versions/a.md`` stays a document."""

    regex = r".+?\.(?i:md|markdown)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("kbdoc", _DocPath())


class SourceOut(BaseModel):
    path: str
    markdown: str
    version: str = Field(description="SHA-256 of the file's bytes: send it back when saving")


class PreviewIn(BaseModel):
    markdown: str = Field(max_length=5_000_000)
    path: str = Field(default="", max_length=1000)


class SectionOut(BaseModel):
    heading: str
    anchor: str
    level: int
    start_line: int
    end_line: int


class PreviewOut(BaseModel):
    path: str
    title: str
    meta: dict[str, Any]
    html: str
    sections: list[SectionOut]


class SaveIn(BaseModel):
    markdown: str = Field(max_length=5_000_000)
    version: str = Field(min_length=1, max_length=128, description="the version the text was loaded at")
    author: str = Field(default="", max_length=200, description="who edits (only used when kb has no users)")


class FindingOut(BaseModel):
    path: str
    line: int
    severity: str
    code: str
    message: str


class SavedOut(BaseModel):
    path: str
    version: str
    warnings: list[FindingOut]
    changed: bool = True


class VersionOut(BaseModel):
    id: str
    author: str
    at: float
    version: str
    message: str = ""


class VersionTextOut(BaseModel):
    id: str
    markdown: str


class RestoreIn(BaseModel):
    version: str | None = Field(default=None, max_length=128, description="refuse (409) if the file moved on")
    author: str = Field(default="", max_length=200)


class NewIn(BaseModel):
    type: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=300)
    client: str = Field(default="", max_length=200)
    products: list[str] | str = Field(default_factory=list)
    owner: str = Field(default="", max_length=300, description="the owner (only used when kb has no users)")


class NewOut(BaseModel):
    path: str
    version: str
    warnings: list[FindingOut]


def _findings(found: list[Finding]) -> list[FindingOut]:
    return [FindingOut.model_validate(finding_dict(f)) for f in found]


def _saved(s: Saved) -> SavedOut:
    return SavedOut(path=s.path, version=s.version, warnings=_findings(s.warnings), changed=s.changed)


def add_routes(app: FastAPI, kb: KnowledgeBase, reader: Role, editor: Role, audit: Audit) -> None:
    """Editing routes, in front of the app's own."""
    edit = Editing(kb)
    first = len(app.router.routes)

    def author(user: User, named: str) -> str:
        """The signed-in user; in open mode (no users) whoever the request names."""
        return (" ".join(named.split()) or DEFAULT_NAME) if user == OPEN_USER else user.name

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"error": {"code": exc.code, "message": str(exc)}, "yours": exc.yours,
                             "theirs": exc.theirs, "version": exc.version}, status_code=exc.status)

    @app.exception_handler(Invalid)
    async def invalid(_: Request, exc: Invalid) -> JSONResponse:
        return JSONResponse({"error": {"code": exc.code, "message": str(exc)},
                             "errors": [finding_dict(f) for f in exc.errors],
                             "warnings": [finding_dict(f) for f in exc.warnings]}, status_code=exc.status)

    @app.get("/api/documents/{path:kbdoc}/source", response_model=SourceOut)
    def source(path: str, request: Request) -> SourceOut:
        """The document's Markdown and its version, to edit."""
        user = editor(request)
        s = edit.source(path, user.groups)
        return SourceOut(path=s.path, markdown=s.markdown, version=s.version)

    @app.post("/api/preview", response_model=PreviewOut)
    def preview_route(body: PreviewIn, request: Request) -> PreviewOut:
        """Markdown rendered as the document view renders it; nothing is written."""
        editor(request)
        r = preview(body.markdown, body.path, kb.settings.max_file_bytes)
        return PreviewOut(path=r.path, title=r.title, meta=r.meta, html=r.html,
                          sections=[SectionOut(**vars(s)) for s in r.sections])

    @app.put("/api/documents/{path:kbdoc}", response_model=SavedOut,
             responses={409: {"description": "changed since loaded: both texts"},
                        422: {"description": "kb lint errors, with their lines"}})
    def save(path: str, body: SaveIn, request: Request) -> SavedOut:
        """Save the document if it is still at ``version`` and passes ``kb lint``; keep a version; reindex."""
        user = editor(request)
        saved = edit.save(path, body.markdown, body.version, author(user, body.author), user.groups)
        if saved.changed:
            audit(user, "edit", path, [path])
        return _saved(saved)

    @app.get("/api/documents/{path:kbdoc}/versions", response_model=list[VersionOut])
    def versions(path: str, request: Request) -> list[VersionOut]:
        """Every kept version, newest first: commits when the content folder is a git work tree, else the copies
        kept in the data folder. ``version`` is the SHA-256 of the text, as the source's."""
        user = editor(request)
        return [VersionOut.model_validate(v.as_dict()) for v in edit.versions(path, user.groups)[1]]

    @app.get("/api/documents/{path:kbdoc}/versions/{version_id}", response_model=VersionTextOut)
    def version_text(path: str, version_id: str, request: Request) -> VersionTextOut:
        user = editor(request)
        return VersionTextOut(id=version_id, markdown=edit.version_text(path, version_id, user.groups))

    @app.post("/api/documents/{path:kbdoc}/versions/{version_id}/restore", response_model=SavedOut)
    def restore(path: str, version_id: str, request: Request, body: RestoreIn | None = None) -> SavedOut:
        """Save an earlier version as the newest one (checked, kept, reindexed)."""
        user = editor(request)
        body = body or RestoreIn()
        saved = edit.restore(path, version_id, author(user, body.author), user.groups, body.version)
        if saved.changed:
            audit(user, "restore", f"{path} @ {version_id}", [path])
        return _saved(saved)

    @app.post("/api/documents", response_model=NewOut, status_code=201)
    def create(body: NewIn, request: Request) -> NewOut:
        """A new document from its template (as ``kb new``), owned by the signed-in user."""
        user = editor(request)
        products = body.products.split(",") if isinstance(body.products, str) else body.products
        saved = edit.create(body.type.strip().lower(), body.title, author(user, body.owner), body.client,
                            tuple(products), user.groups)
        audit(user, "create", saved.path, [saved.path])
        return NewOut(path=saved.path, version=saved.version,
                      warnings=_findings(saved.warnings))

    mine = app.router.routes[first:]
    del app.router.routes[first:]
    app.router.routes[0:0] = mine
