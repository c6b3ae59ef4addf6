"""Request logs an operator can use: one line a request, with a request id; plain text or JSON.

No question text is ever logged unless ``KB_LOG_QUESTIONS=1`` (then the ``question`` of /api/ask and the
``query`` of /api/search ride along as ``question``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb.settings import Settings

from .guards import TRUSTED, route_path

ACCESS = logging.getLogger("kb.access")
QUESTION_FIELDS = {"/api/ask": "question", "/api/search": "query"}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_FIELDS = ("request_id", "method", "path", "status", "ms", "client", "question")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, then a request's fields, or the message of any other record."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
        }
        request = getattr(record, "request", None)
        if isinstance(request, dict):
            line.update({k: request[k] for k in _FIELDS if k in request})
        else:
            line["logger"] = record.name
            line["message"] = record.getMessage()
            if record.exc_info:
                line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def formatter(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.log_format.strip().lower() == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings, verbose: bool = False) -> None:
    """Log to stderr in the settings' format: every request at INFO (kb.access), other records from WARNING
    (INFO when ``verbose``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    ACCESS.setLevel(logging.INFO)


class RequestLog:
    """Logs one line per HTTP request (id, method, path, status, ms, client) and answers with X-Request-ID:
    the one a trusted proxy sent, else a new one."""

    def __init__(self, app: ASGIApp, log_questions: bool = False, max_body: int = 1 << 20) -> None:
        self.app = app
        self.log_questions = log_questions
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        sent_id = headers.get(b"x-request-id", b"").decode("latin-1").strip()
        request_id = sent_id if scope.get(TRUSTED) and _REQUEST_ID.match(sent_id) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        path = route_path(scope)
        field = QUESTION_FIELDS.get(path) if self.log_questions and scope.get("method") == "POST" else None
        body = bytearray()
        status = 500

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) <= self.max_body:
                body.extend(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receiving if field else receive, sending)
        finally:
            client = scope.get("client")
            request: dict[str, Any] = {
                "request_id": request_id, "method": scope.get("method", ""), "path": scope.get("path", ""),
                "status": status, "ms": round((time.perf_counter() - started) * 1000, 1),
                "client": str(client[0]) if client else "",
            }
            if field:
                request["question"] = _question(bytes(body), field)
            question = f" question={json.dumps(request['question'], ensure_ascii=False)}" if field else ""
            ACCESS.info("%s %s %s %d %.1fms client=%s%s", request_id, request["method"], request["path"], status,
                        request["ms"], request["client"], question, extra={"request": request})


def _question(body: bytes, field: str) -> str:
    try:
        value = json.loads(body).get(field, "")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""
