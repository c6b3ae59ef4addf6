"""Request guards that sit in front of every route: the reverse proxy in front, body size, rate limits."""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb.errors import BadInput

# Set in the scope when the direct peer is a trusted proxy (its X-Forwarded-* and X-Request-ID headers count).
TRUSTED = "kb.trusted_proxy"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def route_path(scope: Scope) -> str:
    """The request path without the root path (the proxy's prefix): what the routes see."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", "")).rstrip("/")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root):] or "/"
    return path


def trusted_networks(spec: str) -> list[Network]:
    """``KB_TRUSTED_PROXIES``: comma-separated IP addresses or CIDR networks."""
    networks = []
    for item in (part.strip() for part in spec.split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as exc:
                raise BadInput(f"KB_TRUSTED_PROXIES: {item!r} is not an IP address or network") from exc
    return networks


def _trusted(host: str, networks: list[Network]) -> bool:
    try:
        address = ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        return False
    return any(address in net for net in networks)


class BehindProxy:
    """kb behind a reverse proxy.

    ``root_path`` ("/kb"): the prefix the proxy serves kb under; requests arrive with it stripped or not, and
    leave with it in every link, redirect and the API docs (the scope's ``path`` carries the prefix, as ASGI
    servers do with ``--root-path``). Only when the direct peer is in ``trusted`` are ``X-Forwarded-For``
    (the client: the right-most address that is not a trusted proxy) and ``X-Forwarded-Proto`` taken;
    anyone else's are ignored.
    """

    def __init__(self, app: ASGIApp, root_path: str = "", trusted: list[Network] | None = None) -> None:
        self.app = app
        self.root = root_path.rstrip("/")
        self.trusted = trusted or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.root:
            root = self.root
            path = str(scope["path"])
            if not (path == root or path.startswith(root + "/")):
                scope["path"] = root + path
                raw = scope.get("raw_path")
                if raw is not None:
                    scope["raw_path"] = root.encode() + raw
            scope["root_path"] = root
            if scope["path"] == root and scope["type"] == "http":  # /kb: the web app is at /kb/
                query = scope.get("query_string", b"")
                location = (root + "/" + ("?" + query.decode("latin-1") if query else "")).encode()
                await send({"type": "http.response.start", "status": 307,
                            "headers": [(b"location", location), (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
                return
        client = scope.get("client")
        if self.trusted and client and _trusted(str(client[0]), self.trusted):
            scope[TRUSTED] = True
            forwarded: list[str] = []
            proto = ""
            for name, value in scope.get("headers") or []:
                if name == b"x-forwarded-for":
                    forwarded += [a.strip() for a in value.decode("latin-1").split(",") if a.strip()]
                elif name == b"x-forwarded-proto":
                    proto = value.decode("latin-1").split(",")[-1].strip().lower()
            if forwarded:
                real = next((a for a in reversed(forwarded) if not _trusted(a, self.trusted)), forwarded[0])
                scope["client"] = (real.strip("[]"), 0)
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
        await self.app(scope, receive, send)


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
        path = route_path(scope)
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

    def __init__(self, per_minute: int, burst: int | None = None,
                 shared: Callable[[str, float, float], float] | None = None) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst or per_minute)
        self.shared = shared  # (key, rate a second, burst) -> seconds to wait: buckets every server shares
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 when the request may go ahead, else the seconds to wait; a rate of 0 means no limit."""
        if self.rate <= 0:
            return 0.0
        if self.shared is not None:
            return self.shared(key, self.rate, self.burst)
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


