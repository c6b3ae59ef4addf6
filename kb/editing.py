"""Editing documents from the web app: read the source, preview it, save it checked, keep every version.

A save is refused when the text fails the checks ``kb lint`` makes (errors; warnings are only reported),
or when the file changed since the editor loaded it (a conflict that carries both texts, so nothing is lost).
Saves go through :mod:`kb.edits` (one atomic write) under the knowledge base's content lock, and every
saved text is kept as a version (:mod:`kb.versions`).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from kb import authoring, edits
from kb.documents import Rendered, render
from kb.errors import BadInput, KbError, NotFound, StoreError
from kb.ingest import MARKDOWN_SUFFIXES, decode
from kb.lint import Finding, lint
from kb.markdown import parse
from kb.service import KnowledgeBase, readable
from kb.versions import BEFORE, FolderVersions, Version, VersionStore, digest, store_for

log = logging.getLogger(__name__)
_BOM = "\ufeff"


class Conflict(KbError):
    """The file changed since the editor loaded it: both texts go back, nothing is written."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, yours: str, theirs: str, version: str) -> None:
        super().__init__(message)
        self.yours = yours
        self.theirs = theirs
        self.version = version


class Invalid(KbError):
    """The text fails the content checks (``kb lint`` errors); nothing is written."""

    status = 422
    code = "invalid_document"

    def __init__(self, message: str, errors: list[Finding], warnings: list[Finding]) -> None:
        super().__init__(message)
        self.errors = errors
        self.warnings = warnings


class Exists(KbError):
    """A new document would overwrite one that is there."""

    status = 409
    code = "exists"


@dataclass(frozen=True)
class Source:
    path: str
    markdown: str
    version: str


@dataclass(frozen=True)
class Saved:
    path: str
    version: str
    warnings: list[Finding] = field(default_factory=list)
    changed: bool = True


def finding_dict(f: Finding) -> dict[str, object]:
    return {"path": f.path, "line": f.line, "severity": f.severity, "code": f.code, "message": f.message}


def _text_of(data: bytes) -> tuple[str, bool]:
    """A file's text without its byte-order mark, and whether it had one."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput("the file is not UTF-8 text; kb will not edit it") from exc
    return text.removeprefix(_BOM), text.startswith(_BOM)


def _bytes(markdown: str, like: bytes) -> bytes:
    """``markdown`` (as a browser sends it) as file bytes in the style of ``like``: its BOM and line endings."""
    text = markdown.removeprefix(_BOM).replace("\r\n", "\n").replace("\r", "\n")
    old, bom = _text_of(like) if like else ("", False)
    if "\r\n" in old:
        text = text.replace("\n", "\r\n")
    return ((_BOM if bom else "") + text).encode("utf-8")


def _copy_for_lint(src: str, dst: str) -> object:
    """Markdown files are copied; anything else only needs to exist (links to it are checked, not read)."""
    if src.lower().endswith(MARKDOWN_SUFFIXES):
        return shutil.copyfile(src, dst)
    Path(dst).touch()
    return dst


def _hidden(_: str, names: list[str]) -> list[str]:
    return [n for n in names if n.startswith(".")]  # .git and the like: ingest and lint never read them


def check(content_dir: Path, rel: str, text: str, today: dt.date, max_bytes: int,
          count: Callable[[str], int] | None = None, budget: int = 320) -> tuple[list[Finding], list[Finding]]:
    """What ``kb lint`` finds in ``rel`` if its text were ``text``: (errors, warnings).

    The content folder is copied with the new text in place, so links, anchors and client cards are checked
    against the other documents exactly as ``kb lint`` checks them. Problems the change makes in other files
    (a link to a heading that is gone) come back as warnings.
    """
    with tempfile.TemporaryDirectory(prefix="kb-check-") as tmp:
        root = Path(tmp) / "content"
        shutil.copytree(content_dir, root, symlinks=True, ignore=_hidden, copy_function=_copy_for_lint)
        target = root / rel
        if target.is_symlink() or target.is_dir():
            raise BadInput(f"{rel!r} is not a file kb can write")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        after = lint(root, today, max_bytes).findings
        own = [f for f in after if f.path == rel]
        if count is not None:  # the length check needs the model: run it on this file alone
            solo = Path(tmp) / "solo"
            (solo / rel).parent.mkdir(parents=True, exist_ok=True)
            (solo / rel).write_bytes(text.encode("utf-8"))
            own += [f for f in lint(solo, today, max_bytes, count, budget).findings if f.code == "section-too-long"]
    others = [f for f in after if f.path != rel and f.severity == "error"]
    if others:
        before = {(f.path, f.code, f.message) for f in lint(content_dir, today, max_bytes).findings}
        others = [Finding(f.path, f.line, "warning", f.code, f.message) for f in others
                  if (f.path, f.code, f.message) not in before]
    errors = [f for f in own if f.severity == "error"]
    warnings = [f for f in own if f.severity != "error"] + others
    return errors, warnings


def preview(markdown: str, path: str = "", max_bytes: int = 5 * 1048576) -> Rendered:
    """``markdown`` rendered exactly as the document view renders a file (:func:`kb.documents.render`)."""
    name = PurePosixPath(path).name if path else ""
    if not name.lower().endswith(MARKDOWN_SUFFIXES) or name.startswith("."):
        name = "preview.md"
    with tempfile.TemporaryDirectory(prefix="kb-preview-") as tmp:
        (Path(tmp) / name).write_bytes(markdown.removeprefix(_BOM).encode("utf-8"))
        try:
            shown = render(Path(tmp), name, max_bytes)
        except NotFound as exc:  # the renderer's word for "cannot be shown"
            raise BadInput(str(exc).replace(repr(name), repr(path or name))) from exc
    return Rendered(path or shown.path, shown.title, shown.meta, shown.html, shown.sections)


class Editing:
    """Editing for one knowledge base: every write under its content lock, then a reindex."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    @property
    def content_dir(self) -> Path:
        return self.kb.settings.content_dir

    def _file(self, rel: str, groups: frozenset[str] | None) -> Path:
        """The existing content file ``rel`` when the user may read it, else not found (or bad input)."""
        file = edits.target(self.content_dir, rel)
        if not file.is_file():
            raise NotFound(f"no document {rel!r}")
        if groups is not None:
            row = self.kb.store().document(rel)
            if row is not None:
                allowed = readable(row, groups)
            else:  # not indexed (no text yet, or unreadable): its own front matter says who may see it
                try:
                    access = parse(decode(file.read_bytes()), rel, check_type=False).meta.access
                except (KbError, OSError, ValueError):
                    access = ()
                allowed = not access or bool(set(access) & groups)
            if not allowed:
                raise NotFound(f"no document {rel!r}")
        return file

    def source(self, rel: str, groups: frozenset[str] | None = None) -> Source:
        data = self._file(rel, groups).read_bytes()
        if len(data) > self.kb.settings.max_file_bytes:
            raise BadInput(f"{rel} is larger than KB_MAX_FILE_MB; edit it outside kb")
        return Source(rel, _text_of(data)[0], digest(data))

    def _count(self) -> tuple[Callable[[str], int] | None, int]:
        s = self.kb.settings
        try:
            embedder = self.kb.embedder
        except KbError:
            return None, s.chunk_tokens
        return embedder.count_tokens, min(s.chunk_tokens, embedder.max_tokens - 16)

    def check(self, rel: str, text: str) -> tuple[list[Finding], list[Finding]]:
        count, budget = self._count()
        return check(self.content_dir, rel, text, self.kb.clock(), self.kb.settings.max_file_bytes, count, budget)

    def save(self, rel: str, markdown: str, version: str | None, author: str,
             groups: frozenset[str] | None = None, message: str = "") -> Saved:
        """Write ``markdown`` over ``rel`` if it still is at ``version`` (None: whatever it is) and passes the
        checks; keep the new text as a version; reindex."""
        with self.kb.content_lock:
            file = self._file(rel, groups)
            current = file.read_bytes()
            now = digest(current)
            if version is not None and version != now:
                raise Conflict(f"{rel} was changed by someone else since you opened it", markdown,
                               _text_of(current)[0], now)
            data = _bytes(markdown, current)
            if len(data) > self.kb.settings.max_file_bytes:
                raise BadInput(f"the text is larger than KB_MAX_FILE_MB ({self.kb.settings.max_file_mb} MB)")
            errors, warnings = self.check(rel, _text_of(data)[0])
            if errors:
                raise Invalid(f"{len(errors)} problem(s) to fix before saving: "
                              + "; ".join(f"line {f.line}: {f.message}" for f in errors[:3]), errors, warnings)
            if data == current:
                return Saved(rel, now, warnings, changed=False)
            store = store_for(self.content_dir, self.kb.settings.data_dir, rel)
            # the text as it was, unless a version holds it already
            kept = self._keep(store, rel, current, "kb", BEFORE)
            edits.write_atomic(file, data)
            kept += self._keep(store, rel, data, author, message or f"kb: edit {rel}")
        return Saved(rel, digest(data), warnings + kept + self._reindex(rel))

    def _keep(self, store: VersionStore, rel: str, data: bytes, author: str, message: str) -> list[Finding]:
        """Keep a version; when git cannot commit (a merge in progress, a locked index), the data folder keeps it
        and the editor is told."""
        try:
            store.record(rel, data, author, message)
            return []
        except StoreError as exc:
            if store.kind != "git":
                raise
            log.warning("keeping the version of %s in the data folder: %s", rel, exc)
            FolderVersions(self.kb.settings.data_dir).record(rel, data, author, message)
            return [Finding(rel, 1, "warning", "version-not-committed",
                            f"git could not commit this version; kb kept it in its data folder instead ({exc})")]

    def _reindex(self, rel: str) -> list[Finding]:
        """Reindex; why the file was not indexed, if it was not, comes back as a warning."""
        report = self.kb.reindex()
        return [Finding(rel, 1, "warning", "not-indexed", f"not indexed: {e.reason}")
                for e in report.errors if e.path == rel]

    def versions(self, rel: str, groups: frozenset[str] | None = None) -> tuple[str, list[Version]]:
        """Where versions are kept ("git" or "folder") and every kept version of ``rel``, newest first."""
        self._file(rel, groups)
        store = store_for(self.content_dir, self.kb.settings.data_dir, rel)
        return store.kind, store.history(rel)

    def version_text(self, rel: str, version_id: str, groups: frozenset[str] | None = None) -> str:
        self._file(rel, groups)
        data = store_for(self.content_dir, self.kb.settings.data_dir, rel).read(rel, version_id)
        return _text_of(data)[0]

    def restore(self, rel: str, version_id: str, author: str, groups: frozenset[str] | None = None,
                version: str | None = None) -> Saved:
        """Save an earlier version's text as the newest version (checked like any save)."""
        text = self.version_text(rel, version_id, groups)
        return self.save(rel, text, version, author, groups, f"kb: restore {rel} to {version_id[:12]}")

    def create(self, kind: str, title: str, owner: str, client: str = "", products: tuple[str, ...] = (),
               groups: frozenset[str] | None = None) -> Saved:
        """A new document from its ``kb new`` template (:mod:`kb.authoring`), checked, kept, indexed."""
        if kind not in authoring.TEMPLATES:
            raise BadInput(f"no template for {kind!r} (expected one of {', '.join(authoring.TEMPLATES)})")
        title = " ".join(title.split())
        client = client.strip()
        products = tuple(p.strip() for p in products if p.strip())
        if kind == "client":
            client = client or authoring.slug(title, drop_legal_forms=True)
            if not client:
                raise BadInput(f"cannot make a client id from {title!r}: give a client id")
        day = self.kb.clock()
        text = authoring.render(kind, title, owner, day, client, products)
        rel = authoring.default_path(kind, title, client)
        with self.kb.content_lock:
            file = edits.target(self.content_dir, rel)
            if file.exists():
                raise Exists(f"{rel} already exists")
            errors, warnings = self.check(rel, text)
            errors = [f for f in errors if f.code != "empty"]
            if errors:
                raise Invalid(f"{len(errors)} problem(s): " + "; ".join(f.message for f in errors[:3]),
                              errors, warnings)
            created = authoring.create(self.content_dir, kind, title, owner, day, client, products, rel)
            data = file.read_bytes()
            kept = self._keep(store_for(self.content_dir, self.kb.settings.data_dir, created), created, data, owner,
                              f"kb: new {kind} {created}")
        warnings = [w for w in warnings if w.code != "empty"]  # a template has no text yet, by design
        return Saved(created, digest(data), warnings + kept + [w for w in self._reindex(created)
                                                               if "no text" not in w.message])
