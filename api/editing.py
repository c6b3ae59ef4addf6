"""Routes for editing (added to the app by create_app)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request

from kb.service import KnowledgeBase
from kb.users import User

Role = Callable[[Request], User]
Audit = Callable[[User, str, str, list[str]], None]


def add_routes(app: FastAPI, kb: KnowledgeBase, reader: Role, editor: Role, audit: Audit) -> None:
    """Nothing yet."""
