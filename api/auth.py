"""Who is asking: bearer tokens for tools, a session cookie for the web app, roles and rate limits."""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from kb.errors import Forbidden, RateLimited, Unauthorized
from kb.users import User, Users

from .guards import RateLimiter

COOKIE = "kb_session"
SESSION_SECONDS = 12 * 3600
OPEN_USER = User("local", "admin", None)


def client_address(request: Request) -> str:
    """The client's address: the real one behind a trusted proxy (see guards.BehindProxy)."""
    return request.client.host if request.client else "unknown"


class Auth:
    """Resolves a request to a user; with no users configured every request is the local user."""

    def __init__(self, users: Users, per_minute: int, cookie_path: str = "/") -> None:
        self.users = users
        # Several servers on one PostgreSQL share one bucket per user; a single server keeps them in memory.
        self.limiter = RateLimiter(per_minute, shared=users.take if users.db.postgres else None)
        self.cookie_path = cookie_path  # the root path behind a proxy ("/kb/"): the cookie goes to kb alone

    def open(self) -> bool:
        return not self.users.any()

    def user(self, request: Request) -> User:
        """The signed-in user (401 without a valid token or session, 429 over the rate limit)."""
        if self.open():
            return OPEN_USER
        header = request.headers.get("authorization", "")
        user: User | None = None
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer":
                user = self.users.authenticate(token.strip())
        else:
            session = self.users.session(request.cookies.get(COOKIE, ""))
            if session is not None:
                user, csrf = session
                if request.method not in ("GET", "HEAD", "OPTIONS") and not secrets.compare_digest(
                        request.headers.get("x-csrf-token", ""), csrf):
                    raise Forbidden("missing or wrong X-CSRF-Token for a signed-in form post")
        if user is None:
            self.limit(f"address {client_address(request)}")  # anonymous: by the client's address
            raise Unauthorized("sign in, or send Authorization: Bearer <token>")
        self.limit(user.name)
        return user

    def limit(self, key: str) -> None:
        """429 when ``key`` (a user's name, or an anonymous client's address) is over the rate limit."""
        wait = self.limiter.take(key)
        if wait:
            raise RateLimited(f"too many requests; retry in {int(wait + 0.999)} s", int(wait + 0.999))

    def require(self, request: Request, role: str) -> User:
        user = self.user(request)
        if not user.can(role):
            raise Forbidden(f"this needs the {role} role")
        return user

    def sign_in(self, token: str, request: Request, response: Response) -> tuple[User, str]:
        """Start a web session for a valid token: an HttpOnly, SameSite=Strict cookie (Secure over HTTPS, as
        the client sees it behind a trusted proxy) and a CSRF token."""
        opened = self.users.open_session(token, SESSION_SECONDS)
        if opened is None:
            self.limit(f"address {client_address(request)}")
            raise Unauthorized("unknown or revoked token")
        user, sid, csrf = opened
        response.set_cookie(COOKIE, sid, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path=self.cookie_path)
        return user, csrf

    def sign_out(self, request: Request, response: Response) -> None:
        self.users.close_session(request.cookies.get(COOKIE, ""))
        response.delete_cookie(COOKIE, path=self.cookie_path)

    def csrf(self, request: Request) -> str:
        session = self.users.session(request.cookies.get(COOKIE, ""))
        return session[1] if session else ""
