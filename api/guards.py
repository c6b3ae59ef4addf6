"""Request guards that sit in front of every route: body size and per-user rate limits."""

from __future__ import annotations

import json
import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _json_error(status: int, code: str, message: str) -> list[Message]:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return [
        {"type": "http.response.start", "status": status,
         "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                     ]},
        {"type": "http.response.body", "body": body},
    ]


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, declared or streamed (chunked) alike; paths under
    ``uploads`` (file uploads) may carry up to ``upload_limit`` bytes instead."""

    def __init__(self, app: ASGIApp, limit: int, uploads: tuple[str, ...] = (), upload_limit: int = 0) -> None:
        self.app = app
        self.default = limit
        self.uploads = uploads
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self.upload_limit if self.uploads and path.startswith(self.uploads) else self.default
        too_large = _json_error(413, "too_large", f"request body over {limit // 1024} KB")
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > limit:
            for message in too_large:
                await send(message)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked_send)
        except _TooLarge:
            if not started:
                for message in too_large:
                    await send(message)


class _TooLarge(Exception):
    pass


class RateLimiter:
    """A token bucket per key: ``rate`` requests a minute, bursts up to ``burst``."""

    def __init__(self, per_minute: int, burst: int | None = None) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst or per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 when the request may go ahead, else the seconds to wait; a rate of 0 means no limit."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


