"""Every saved version of a content file, kept where it can be viewed and restored.

When the content folder is a git work tree (and the file is not ignored there), each version is a commit
with the editor as its author, made with the ``git`` command; a file git does not track yet is added.
Otherwise versions are files under ``<data_dir>/versions/<path>/<timestamp>-<sha>.md`` with a small
``index.json`` beside them saying who saved each one and when.

A version's ``version`` is the SHA-256 of the file's bytes, the same value the editor sends back to say
which text it started from.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from kb.edits import write_atomic
from kb.errors import BadInput, NotFound, StoreError

log = logging.getLogger(__name__)
GIT_TIMEOUT = 60
BEFORE = "before kb edits"  # the message of the version kept of a file as it was before its first kb save
_GIT_ID = re.compile(r"^[0-9a-f]{7,64}$")
_FOLDER_ID = re.compile(r"^\d{8}T\d{12}-[0-9a-f]{12}$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*")


def digest(data: bytes) -> str:
    """The version of a file: the SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Version:
    """One saved version of one file."""

    id: str
    author: str
    at: float  # seconds since the epoch
    version: str  # SHA-256 of the bytes
    message: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class VersionStore(Protocol):
    kind: str

    def record(self, rel: str, data: bytes, author: str, message: str) -> Version | None:
        """Keep ``data`` (the file's bytes, already written) as a new version, unless it is the latest already."""

    def history(self, rel: str) -> list[Version]:
        """Every kept version, newest first."""

    def read(self, rel: str, version_id: str) -> bytes:
        """The bytes of one kept version."""


def ident(author: str) -> tuple[str, str]:
    """A name and an e-mail for git from how kb names people ("Анна (anna@x.ru)", "anna", "anna@x.ru")."""
    text = " ".join(author.split())
    m = _EMAIL.search(text)
    email = m.group(0) if m else ""
    name = re.sub(r"[<>()]", " ", text.replace(email, "") if email else text)
    name = " ".join(name.split()) or (email.split("@")[0] if email else "") or "kb"
    return name, email


class GitVersions:
    """Versions as commits in the git work tree the content folder is in."""

    kind = "git"

    def __init__(self, content_dir: Path) -> None:
        self.content_dir = content_dir
        self._prefix: str | None = None

    def _git(self, *args: str, data: bytes | None = None, env: dict[str, str] | None = None,
             check: bool = True) -> subprocess.CompletedProcess[bytes]:
        cmd = ["git", "-C", str(self.content_dir), "-c", "core.quotepath=off", "-c", "commit.gpgsign=false", *args]
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
        try:
            done = subprocess.run(cmd, input=data, capture_output=True, timeout=GIT_TIMEOUT, env=full_env,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StoreError(f"git {args[0]} failed: {exc}") from exc
        if check and done.returncode != 0:
            raise StoreError(f"git {args[0]} failed: {done.stderr.decode('utf-8', 'replace').strip()[:500]}")
        return done

    @staticmethod
    def available(content_dir: Path) -> bool:
        """Whether ``content_dir`` is inside a git work tree and the git command is installed."""
        if shutil.which("git") is None or not content_dir.is_dir():
            return False
        try:
            done = subprocess.run(["git", "-C", str(content_dir), "rev-parse", "--is-inside-work-tree"],
                                  capture_output=True, timeout=GIT_TIMEOUT, check=False,
                                  env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0 and done.stdout.strip() == b"true"

    def ignored(self, rel: str) -> bool:
        return self._git("check-ignore", "-q", "--", rel, check=False).returncode == 0

    @property
    def prefix(self) -> str:
        """The content folder's path inside the repository ("" at its top, else ending in /)."""
        if self._prefix is None:
            self._prefix = self._git("rev-parse", "--show-prefix").stdout.decode("utf-8").strip()
        return self._prefix

    def _committer(self) -> dict[str, str]:
        """kb commits as itself only where git has no identity configured."""
        if self._git("config", "user.email", check=False).returncode == 0:
            return {}
        return {"GIT_COMMITTER_NAME": "kb", "GIT_COMMITTER_EMAIL": "kb@localhost"}

    def record(self, rel: str, data: bytes, author: str, message: str) -> Version | None:
        status = self._git("status", "--porcelain", "--", rel).stdout
        if not status.strip():
            return None  # the file is committed as it is
        name, email = ident(author)
        self._git("add", "--", rel)
        self._git("commit", "--only", "--no-verify", "--quiet", "-m", message, "--author", f"{name} <{email}>",
                  "--", rel, env=self._committer())
        history = self.history(rel, limit=1)
        return history[0] if history else None

    def history(self, rel: str, limit: int = 0) -> list[Version]:
        done = self._git("log", *([f"-n{limit}"] if limit else []), "--format=%H%x1f%an%x1f%at%x1f%s", "--", rel,
                         check=False)
        if done.returncode != 0:  # no commits yet
            return []
        rows = [line.split("\x1f") for line in done.stdout.decode("utf-8", "replace").splitlines() if line]
        blobs = self._blobs([r[0] for r in rows], rel)
        return [Version(r[0], r[1], float(r[2]), digest(blobs[r[0]]), r[3]) for r in rows if r[0] in blobs]

    def _blobs(self, commits: list[str], rel: str) -> dict[str, bytes]:
        """The file's bytes at each commit (commits where it was deleted are left out), read in one git call."""
        if not commits:
            return {}
        path = self.prefix + rel
        out = self._git("cat-file", "--batch", data="".join(f"{c}:{path}\n" for c in commits).encode("utf-8")).stdout
        found: dict[str, bytes] = {}
        at = 0
        for commit in commits:
            end = out.index(b"\n", at)
            header = out[at:end].split()
            at = end + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                found[commit] = out[at:at + size]
                at += size + 1
        return found

    def read(self, rel: str, version_id: str) -> bytes:
        if not _GIT_ID.match(version_id):
            raise NotFound(f"no version {version_id!r} of {rel}")
        match = [v.id for v in self.history(rel) if v.id.startswith(version_id)]
        if len(match) != 1:
            raise NotFound(f"no version {version_id!r} of {rel}")
        return self._blobs(match, rel)[match[0]]


class FolderVersions:
    """Versions as files in the data folder, one folder per document with an ``index.json``."""

    kind = "folder"

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "versions"

    def _dir(self, rel: str) -> Path:
        parts = Path(rel).parts
        if not rel or Path(rel).is_absolute() or ".." in parts or any(p.startswith(".") for p in parts):
            raise BadInput(f"not a content path: {rel!r}")
        return self.root / rel

    def _index(self, rel: str) -> list[dict[str, object]]:
        file = self._dir(rel) / "index.json"
        try:
            entries = json.loads(file.read_text("utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read the versions of {rel}: {exc}") from exc
        return entries if isinstance(entries, list) else []

    @staticmethod
    def _version(entry: dict[str, object]) -> Version:
        return Version(str(entry["id"]), str(entry.get("author", "")), float(str(entry.get("at", 0.0))),
                       str(entry["version"]), str(entry.get("message", "")))

    def record(self, rel: str, data: bytes, author: str, message: str) -> Version | None:
        entries = self._index(rel)
        sha = digest(data)
        if entries and entries[-1].get("version") == sha:
            return None
        now = time.time()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1e6) % 1_000_000:06d}"
        version_id = f"{stamp}-{sha[:12]}"
        while any(e.get("id") == version_id for e in entries):  # two saves within one microsecond
            now += 1e-6
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1e6) % 1_000_000:06d}"
            version_id = f"{stamp}-{sha[:12]}"
        folder = self._dir(rel)
        try:
            write_atomic(folder / f"{version_id}.md", data)
            entry = {"id": version_id, "author": author, "at": now, "version": sha, "message": message}
            write_atomic(folder / "index.json",
                         json.dumps([*entries, entry], ensure_ascii=False, indent=1).encode("utf-8"))
        except OSError as exc:
            raise StoreError(f"cannot keep a version of {rel}: {exc}") from exc
        return self._version(entry)

    def history(self, rel: str) -> list[Version]:
        return [self._version(e) for e in reversed(self._index(rel))]

    def read(self, rel: str, version_id: str) -> bytes:
        if not _FOLDER_ID.match(version_id) or not any(e.get("id") == version_id for e in self._index(rel)):
            raise NotFound(f"no version {version_id!r} of {rel}")
        try:
            return (self._dir(rel) / f"{version_id}.md").read_bytes()
        except OSError as exc:
            raise NotFound(f"version {version_id!r} of {rel} is gone: {exc}") from exc


def store_for(content_dir: Path, data_dir: Path, rel: str) -> VersionStore:
    """Git when the content folder is in a git work tree that does not ignore ``rel``; else the data folder."""
    if GitVersions.available(content_dir):
        git = GitVersions(content_dir)
        if not git.ignored(rel):
            return git
    return FolderVersions(data_dir)
