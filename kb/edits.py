"""Changes kb makes to content files: the whole file goes to a temporary file that is renamed over it.

Only the part that changes is touched; every other byte (BOM, line endings, comments) stays as it was.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from kb.errors import BadInput
from kb.ingest import MARKDOWN_SUFFIXES

_BOM = "\ufeff"
_FENCE = re.compile(r"^(---|\.\.\.)[ \t]*$")


def target(content_dir: Path, rel: str) -> Path:
    """Where kb may write ``rel``: a Markdown file inside the content folder, never through a link out of it."""
    root = content_dir.resolve()
    parts = Path(rel).parts
    if not rel or Path(rel).is_absolute() or ".." in parts or "\x00" in rel or "\\" in rel:
        raise BadInput(f"not a content path: {rel!r}")
    if not rel.lower().endswith(MARKDOWN_SUFFIXES) or any(p.startswith(".") for p in parts):
        raise BadInput(f"not a content path: {rel!r}")
    path = root / rel
    try:
        resolved = path.resolve()
        resolved.relative_to(root)
    except (OSError, ValueError, RuntimeError) as exc:
        raise BadInput(f"{rel!r} is outside the content folder") from exc
    if path.is_symlink() or resolved != path:
        raise BadInput(f"{rel!r} is a link; kb only writes real files")
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` in one step: readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_text(path: Path) -> tuple[str, bool]:
    """A content file's text and whether it began with a byte-order mark."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path.name} is not UTF-8 text; kb will not rewrite it") from exc
    return text.removeprefix(_BOM), text.startswith(_BOM)


def write_text(path: Path, text: str, bom: bool = False) -> None:
    write_atomic(path, ((_BOM if bom else "") + text).encode("utf-8"))


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def front_matter_bounds(lines: list[str]) -> tuple[int, int] | None:
    """Indexes of the opening and closing ``---`` lines, or None when the file has no front matter."""
    if not lines or lines[0].rstrip("\r\n").rstrip() != "---":
        return None
    for i in range(1, len(lines)):
        if _FENCE.match(lines[i].rstrip("\r\n")):
            return 0, i
    return None


def set_front_matter(text: str, key: str, value: str) -> str:
    """``text`` with the top-level front matter ``key`` set to ``value``; only that line changes (or is added)."""
    lines = text.splitlines(keepends=True)
    bounds = front_matter_bounds(lines)
    if bounds is None:
        raise BadInput("the document has no front matter to update")
    _, end = bounds
    line_re = re.compile(rf"^({re.escape(key)}[ \t]*:[ \t]*)(.*?)([ \t]+#.*)?(\r?\n)?$")
    for i in range(1, end):
        m = line_re.match(lines[i])
        if m:
            lines[i] = f"{m.group(1)}{value}{m.group(3) or ''}{m.group(4) or ''}"
            return "".join(lines)
    lines.insert(end, f"{key}: {value}{newline_of(text)}")
    return "".join(lines)


def append_block(text: str, block: str) -> str:
    """``text`` with ``block`` (written with ``\\n``) added at the end after one blank line, in the file's newlines."""
    nl = newline_of(text)
    body = text if text.endswith(("\n", "\r")) or not text else text + nl
    if body and not body.endswith(nl + nl):
        body += nl
    return body + block.strip("\n").replace("\n", nl) + nl
