"""Who may see what: tokens, roles, per-document access, safe defaults and hostile input."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.guards import RateLimiter
from kb.backup import backup
from kb.datastore import DataStore
from kb.embedding import Embedder
from kb.settings import Settings
from kb.users import Users

from .conftest import ROOT, build, copy_fixtures, make_settings
from .pgserver import PgServer

CANARY = "зюзяблик"
SECRET_DOC = "policies/floor-prices.md"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def secure(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           embedder: Embedder) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A server with users, on each back end of the users' data."""
    url = request.getfixturevalue("postgres").database() if request.param == "postgresql" else ""
    tmp = tmp_path_factory.mktemp("trust")
    copy_fixtures(tmp / "content")
    (tmp / "content" / "policies").mkdir()
    (tmp / "content" / SECRET_DOC).write_text(
        "---\ntitle: Минимальные цены\ntype: policy\nclient: lastochka\nowner: Финдиректор\naccess: [management]\n---\n"
        f"# Минимальные цены\n\n## Склад Про\n\nМинимальная цена лицензии Склад Про для Ласточки — 61 000 ₽,"
        f" кодовое слово {CANARY}.\n", "utf-8")
    settings = make_settings(tmp, tmp / "content", url)
    build(settings, embedder)
    users = Users(settings.data_dir, settings.database_url)
    tokens = {
        "reader": users.add("rita", "reader", ["sales"]),
        "manager": users.add("max", "reader", ["management"]),
        "editor": users.add("eva", "editor", ["sales"]),
        "admin": users.add("adam", "admin", []),
    }
    with TestClient(create_app(settings, embedder)) as client:
        yield client, tokens
    users.close()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def everything(client: TestClient, token: str) -> str:
    """Every endpoint and page a user can reach, concatenated."""
    h = auth(token)
    out = []
    for q in ("минимальная цена Склад Про Ласточка", "кодовое слово минимальной цены", "floor price"):
        out.append(client.post("/api/ask", json={"question": q}, headers=h).text)
        out.append(client.post("/api/ask", json={"question": q, "client": "lastochka"}, headers=h).text)
        out.append(client.post("/api/search", json={"query": q, "k": 50}, headers=h).text)
    doc = client.get(f"/api/documents/{SECRET_DOC}", headers=h)
    missing = client.get("/api/documents/policies/no-such.md", headers=h)
    if doc.status_code == 200:
        out.append(doc.text)
    else:  # indistinguishable from a document that does not exist
        assert doc.status_code == missing.status_code == 404
        assert doc.json()["error"]["message"].replace(SECRET_DOC, "X") == \
            missing.json()["error"]["message"].replace("policies/no-such.md", "X")
    out.append(client.get("/api/clients", headers=h).text)
    out.append(client.get("/api/clients/lastochka", headers=h).text)
    for path in ("/api/gaps", "/metrics", "/healthz", "/", "/api/me"):
        out.append(client.get(path, headers=h).text)
    return "\n".join(out)


def test_canary_never_reaches_users_outside_the_group(secure: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = secure
    inside = everything(client, tokens["manager"])  # first: what insiders ask must not leak through gaps
    assert CANARY in inside and SECRET_DOC in inside
    q = "Какая минимальная цена Склад Про для Ласточки?"
    asked = client.post("/api/ask", json={"question": q}, headers=auth(tokens["manager"])).json()
    assert asked["sources"][0]["path"] == SECRET_DOC
    client.post("/api/feedback", headers=auth(tokens["manager"]), json={
        "question": q, "answer": asked["answer"] or "", "helpful": False, "question_id": asked["question_id"]})
    for who in ("reader", "editor", "admin"):
        seen = everything(client, tokens[who])
        assert CANARY not in seen and SECRET_DOC not in seen and "floor-prices" not in seen, who


def test_restricted_document_is_404_outside_the_group(secure: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = secure
    assert client.get(f"/api/documents/{SECRET_DOC}", headers=auth(tokens["reader"])).status_code == 404
    assert client.get(f"/api/documents/{SECRET_DOC}", headers=auth(tokens["manager"])).status_code == 200


def test_every_request_needs_a_token_once_users_exist(secure: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = secure
    for method, path, body in (("POST", "/api/ask", {"question": "SLA"}), ("POST", "/api/search", {"query": "SLA"}),
                               ("GET", "/api/clients", None), ("GET", "/api/documents/products/sklad.md", None),
                               ("GET", "/api/gaps", None), ("POST", "/api/reindex", None), ("GET", "/metrics", None)):
        for headers in ({}, auth("kb_1_" + "x" * 43), {"Authorization": "Basic abc"}):
            r = client.request(method, path, json=body, headers=headers)
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized", (path, headers)


def test_roles(secure: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = secure
    reader, editor, admin = (auth(tokens[r]) for r in ("reader", "editor", "admin"))
    assert client.post("/api/ask", json={"question": "SLA Pro"}, headers=reader).status_code == 200
    assert client.get("/api/gaps", headers=reader).status_code == 403
    assert client.post("/api/reindex", headers=reader).status_code == 403
    # readers cannot import, add sections or hand clients over
    assert client.post("/api/import", params={"name": "x.txt"}, content=b"some text", headers=reader).status_code == 403
    assert client.post("/api/documents/clients/zenit.md/sections", json={"heading": "X", "text": "y"},
                       headers=reader).status_code == 403
    assert client.post("/api/handover/Игорь Соколов/reassign", json={"to": "rita"}, headers=reader).status_code == 403
    assert client.get("/api/gaps", headers=editor).status_code == 200
    assert client.get("/api/audit", headers=editor).status_code == 403
    log = client.get("/api/audit", headers=admin).json()["entries"]
    assert any(e["user"] == "rita" and e["action"] == "ask" for e in log)


def test_session_cookie_and_csrf(secure: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = secure
    r = client.post("/auth/login", json={"token": tokens["reader"]})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    csrf = r.json()["csrf"]
    assert client.get("/api/clients").status_code == 200
    assert client.post("/api/ask", json={"question": "SLA Pro"}).status_code == 403
    assert client.post("/api/ask", json={"question": "SLA Pro"}, headers={"X-CSRF-Token": csrf}).status_code == 200
    client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    assert client.get("/api/clients").status_code == 401
    assert client.post("/auth/login", json={"token": "kb_9_" + "y" * 43}).status_code == 401


def test_hostile_input_gets_clear_4xx(secure: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = secure
    h = auth(tokens["admin"])
    cases = [
        ("POST", "/api/ask", {"json": {"question": "x" * 1_000_000}}, 413),
        ("POST", "/api/ask", {"json": {"question": "x" * 5000}}, 422),
        ("POST", "/api/ask", {"content": b"{bad json", "headers": {"content-type": "application/json"}}, 422),
        ("POST", "/api/ask", {"json": {"question": ["a", "b"]}}, 422),
        ("POST", "/api/ask", {"json": {"question": "\x00\x07\x1b"}}, 400),
        ("POST", "/api/search", {"json": {"query": "a", "k": "ten"}}, 422),
        ("GET", "/api/documents/..%2F..%2F..%2Fetc%2Fpasswd", {}, 404),
        ("GET", "/api/documents/%2Fetc%2Fpasswd", {}, 404),
        ("GET", "/api/documents/clients/../../README.md", {}, 404),
        ("GET", "/api/documents/clients%5C..%5C..%5CREADME.md", {}, 404),
    ]
    for method, path, kwargs, status in cases:
        headers = {**h, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        r = client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
        assert r.status_code == status, (path, r.status_code, r.text[:200])
        assert r.json()["error"]["message"]
    for question in ("🚀🔥 SLA Pro?", "SLA Pro AND OR NOT NEAR(\"x\" *)", "Склад Pro: цена — “кавычки”", "col:val ^x"):
        r = client.post("/api/ask", json={"question": question}, headers=h)
        assert r.status_code == 200 and "answered" in r.json()


def test_rate_limit(tmp_path: Path, embedder: Embedder, database_url: str) -> None:
    copy_fixtures(tmp_path / "content")
    settings = Settings.from_env(content_dir=tmp_path / "content", index_dir=tmp_path / "index",
                                 data_dir=tmp_path / "data", rate_limit=5, database_url=database_url)
    build(settings, embedder)
    users = Users(settings.data_dir, database_url)
    token = users.add("fast", "reader")
    users.close()
    with TestClient(create_app(settings, embedder)) as client:
        codes = [client.get("/api/clients", headers=auth(token)).status_code for _ in range(8)]
        assert codes[:5] == [200] * 5 and codes[-1] == 429
        r = client.get("/api/clients", headers=auth(token))
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_sessions_and_rate_limits_hold_across_servers(tmp_path: Path, embedder: Embedder,
                                                       postgres: PgServer) -> None:
    """Two servers on one PostgreSQL: a web session opened on one is good on the other, and a user's requests
    count against one limit wherever they land."""
    copy_fixtures(tmp_path / "content")
    url = postgres.database()
    one = Settings.from_env(content_dir=tmp_path / "content", index_dir=tmp_path / "index",
                            data_dir=tmp_path / "data", rate_limit=6, database_url=url)
    build(one, embedder)
    two = replace(one, data_dir=tmp_path / "data2")
    users = Users(one.data_dir, url)
    token = users.add("anna", "editor")
    users.close()
    with TestClient(create_app(one, embedder)) as a, TestClient(create_app(two, embedder)) as b:
        signed = a.post("/auth/login", json={"token": token})
        assert signed.status_code == 200
        csrf = signed.json()["csrf"]
        b.cookies.update(a.cookies)
        assert b.get("/api/me").json()["name"] == "anna"
        assert b.post("/api/ask", json={"question": "SLA Pro?"}, headers={"X-CSRF-Token": csrf}).status_code == 200
        codes = [(a if i % 2 else b).get("/api/clients", headers=auth(token)).status_code for i in range(6)]
        assert codes[:3] == [200] * 3 and codes[-1] == 429  # 6 a minute in all, not 6 on each server


def test_a_rate_limit_of_zero_means_no_limit() -> None:
    limiter = RateLimiter(0)
    assert all(limiter.take("busy", now=1.0) == 0.0 for _ in range(1000))
    assert RateLimiter(60).take("x", now=0.0) == 0.0


def test_open_mode_only_on_loopback(tmp_path: Path) -> None:
    env = {**os.environ, "KB_DATA_DIR": str(tmp_path / "data"), "KB_INDEX_DIR": str(tmp_path / "index")}
    r = subprocess.run([sys.executable, "-m", "kb", "serve", "--host", "0.0.0.0", "--port", "1"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "--insecure" in r.stderr


def test_backup_while_serving_and_data_survive_a_killed_reindex(tmp_path: Path, embedder: Embedder) -> None:
    copy_fixtures(tmp_path / "content")
    settings = make_settings(tmp_path, tmp_path / "content")
    build(settings, embedder)
    token = Users(settings.data_dir).add("keeper", "editor")
    DataStore(settings.data_dir).record_feedback("Полезный вопрос?", "ответ", False, "комментарий")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "KB_CONTENT_DIR": str(settings.content_dir), "KB_INDEX_DIR": str(settings.index_dir),
           "KB_DATA_DIR": str(settings.data_dir)}
    shutil.copytree(ROOT / "content", settings.content_dir / "more")  # a long reindex
    proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--port", str(port), "--no-watch"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        backup(settings.data_dir, tmp_path / "copy.sqlite")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/reindex", method="POST",
                                     headers=auth(token))

        def reindex() -> None:
            try:
                urllib.request.urlopen(req, timeout=600).read()
            except OSError:
                pass  # the server is killed mid-request

        threading.Thread(target=reindex, daemon=True).start()
        time.sleep(6)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert Users(settings.data_dir).authenticate(token) is not None
    gaps = DataStore(settings.data_dir).gaps()
    assert any(g.question == "Полезный вопрос?" for g in gaps)
    (tmp_path / "restore").mkdir()
    shutil.copy(tmp_path / "copy.sqlite", tmp_path / "restore" / "data.sqlite")
    assert Users(tmp_path / "restore").authenticate(token) is not None
