"""Request logs: one line a request with an id; JSON on request; no question text unless asked for."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.logs import JsonFormatter, configure_logging
from kb.embedding import Embedder
from kb.search import Index
from kb.settings import Settings

QUESTION = "Кто подписывает акты у Ласточки?"
QUERY = "секретный поиск SLA"


def _ask_and_search(settings: Settings, embedder: Embedder) -> None:
    with TestClient(create_app(settings, embedder)) as client:
        assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200
        assert client.post("/api/search", json={"query": QUERY}).status_code == 200
        assert client.get("/api/nothing").status_code == 404


def test_json_lines_carry_id_status_and_time_but_no_question(
        fixture_settings: Settings, fixture_index: Index, embedder: Embedder, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every record of every logger
    _ask_and_search(replace(fixture_settings, data_dir=tmp_path / "data", log_format="json"), embedder)
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    requests = [line for line in lines if "request_id" in line]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("POST", "/api/ask", 200), ("POST", "/api/search", 200), ("GET", "/api/nothing", 404)]
    for r in requests:
        assert set(r) == {"time", "level", "request_id", "method", "path", "status", "ms", "client"}
        assert r["level"] == "INFO" and r["client"] == "testclient" and len(r["request_id"]) == 32
        assert isinstance(r["ms"], float) and r["ms"] >= 0
    everything = caplog.text + "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    assert QUESTION not in everything and QUERY not in everything


def test_questions_are_logged_only_when_asked_for(
        fixture_settings: Settings, fixture_index: Index, embedder: Embedder, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kb.access")
    _ask_and_search(replace(fixture_settings, data_dir=tmp_path / "data", log_questions=True), embedder)
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "kb.access"]
    assert [line.get("question") for line in lines] == [QUESTION, QUERY, None]
    assert QUESTION in caplog.text  # the text format too


def test_response_carries_the_request_id(fixture_settings: Settings, fixture_index: Index, embedder: Embedder,
                                         tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kb.access")
    with TestClient(create_app(replace(fixture_settings, data_dir=tmp_path / "data"), embedder)) as client:
        r = client.get("/healthz", headers={"X-Request-ID": "from-the-client"})  # not a trusted proxy: a new id
    rid = r.headers["x-request-id"]
    assert rid != "from-the-client" and caplog.records[-1].request["request_id"] == rid  # type: ignore[attr-defined]
    assert caplog.records[-1].getMessage().startswith(f"{rid} GET /healthz 200 ")


def test_configure_logging_writes_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging(Settings(log_format="json"))
        logging.getLogger("kb.access").info("x", extra={"request": {"request_id": "r1", "status": 200, "ms": 1.5}})
        logging.getLogger("kb.service").warning("skipping %s", "a.md")
        logging.getLogger("kb.service").info("not shown unless verbose")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("kb.access").setLevel(logging.NOTSET)
    assert lines[0]["request_id"] == "r1" and lines[0]["status"] == 200 and lines[0]["level"] == "INFO"
    assert lines[1]["message"] == "skipping a.md" and lines[1]["level"] == "WARNING" and len(lines) == 2
