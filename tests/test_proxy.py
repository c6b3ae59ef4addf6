"""kb behind a reverse proxy: a path prefix (KB_ROOT_PATH) and trusted X-Forwarded-* headers."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from api.app import create_app
from api.guards import trusted_networks
from kb.embedding import Embedder
from kb.errors import BadInput
from kb.search import Index
from kb.settings import Settings
from kb.users import Users

from .test_browser import chromium, serving

PROXY = ("127.0.0.1", 40000)


def _settings(fixture_settings: Settings, tmp_path: Path, **changes: object) -> Settings:
    return replace(fixture_settings, data_dir=tmp_path / "data", root_path="/kb", **changes)  # type: ignore[arg-type]


def test_web_app_docs_and_api_under_the_prefix(fixture_settings: Settings, fixture_index: Index,
                                               embedder: Embedder, tmp_path: Path) -> None:
    app = create_app(_settings(fixture_settings, tmp_path), embedder)
    with TestClient(app, root_path="/kb") as client:  # the proxy strips /kb
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert 'href="/kb/static/style.css"' in page.text and 'src="/kb/static/app.js"' in page.text
        assert '"/static/' not in page.text and '"/api/' not in page.text
        for path in ("/static/app.js", "/static/style.css"):
            assert client.get(path).status_code == 200
        script = client.get("/static/app.js").text
        assert "fetch(served(url)" in script and "fetch('/" not in script
        docs = client.get("/docs")
        assert docs.status_code == 200 and "/kb/openapi.json" in docs.text
        spec = client.get("/openapi.json").json()
        assert spec["servers"] == [{"url": "/kb"}] and "/api/ask" in spec["paths"]
        hits = client.post("/api/search", json={"query": "SLA критический", "k": 2}).json()["hits"]
        assert hits[0]["path"] == "products/sklad.md"
        assert client.get("/healthz").json()["status"] == "ok"
        moved = client.get("/api/clients/", follow_redirects=False)  # redirects keep the prefix
        assert moved.status_code in (307, 308) and moved.headers["location"].endswith("/kb/api/clients")
        bare = client.get("/kb", follow_redirects=False)
        assert bare.status_code == 307 and bare.headers["location"] == "/kb/"
        text = client.get("/metrics").text  # metrics label routes without the prefix
        assert 'kb_requests_total{route="/api/search",status="200"} 1.0' in text
    with TestClient(app) as client:  # a proxy that passes /kb/ on unchanged works too
        assert client.get("/kb/static/app.js").status_code == 200
        assert 'src="/kb/static/app.js"' in client.get("/kb/").text
        assert client.post("/kb/api/search", json={"query": "SLA", "k": 1}).status_code == 200


def test_login_cookie_is_secure_over_https_from_a_trusted_proxy(fixture_settings: Settings, fixture_index: Index,
                                                                embedder: Embedder, tmp_path: Path) -> None:
    settings = _settings(fixture_settings, tmp_path, trusted_proxies="127.0.0.1")
    token = Users(settings.data_dir).add("anna", "reader")
    app = create_app(settings, embedder)
    https = {"X-Forwarded-Proto": "https"}
    with TestClient(app, root_path="/kb", client=PROXY) as proxied:
        r = proxied.post("/auth/login", json={"token": token}, headers=https)
        cookie = r.headers["set-cookie"]
        assert r.status_code == 200 and "Secure" in cookie and "Path=/kb/" in cookie and "HttpOnly" in cookie
        plain = proxied.post("/auth/login", json={"token": token}).headers["set-cookie"]
        assert "Secure" not in plain
    with TestClient(app, root_path="/kb") as direct:  # an untrusted peer's X-Forwarded-Proto is ignored
        cookie = direct.post("/auth/login", json={"token": token}, headers=https).headers["set-cookie"]
        assert "Secure" not in cookie and "Path=/kb/" in cookie
        direct.cookies.clear()
        assert direct.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_forwarded_for_sets_the_client_of_rate_limits_and_logs(
        fixture_settings: Settings, fixture_index: Index, embedder: Embedder, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    settings = _settings(fixture_settings, tmp_path, trusted_proxies="127.0.0.1, 10.0.0.0/8", rate_limit=2)
    Users(settings.data_dir).add("anna", "reader")
    app = create_app(settings, embedder)
    caplog.set_level(logging.INFO, logger="kb.access")
    bad = {"Authorization": "Bearer wrong"}

    def codes(client: TestClient, forwarded: str, n: int = 3) -> list[int]:
        return [client.get("/api/clients", headers={**bad, "X-Forwarded-For": forwarded}).status_code
                for _ in range(n)]

    with TestClient(app, root_path="/kb", client=PROXY) as proxied:
        # anonymous requests are limited by the client's address: the right-most one no trusted proxy added
        assert codes(proxied, "198.51.100.9, 203.0.113.5, 10.1.2.3") == [401, 401, 429]
        assert codes(proxied, "203.0.113.6", 1) == [401]  # another client, another bucket
        logged = [r.request for r in caplog.records if r.name == "kb.access"]  # type: ignore[attr-defined]
        assert [r["client"] for r in logged] == ["203.0.113.5"] * 3 + ["203.0.113.6"]
        assert [r["status"] for r in logged] == [401, 401, 429, 401]
        assert all(r["path"] == "/kb/api/clients" for r in logged)
        r = proxied.get("/healthz", headers={"X-Request-ID": "edge-42"})
        assert r.headers["x-request-id"] == "edge-42"
    caplog.clear()
    with TestClient(app, root_path="/kb") as direct:  # not a trusted proxy: X-Forwarded-For is ignored
        assert [direct.get("/api/clients", headers={**bad, "X-Forwarded-For": f"192.0.2.{i}"}).status_code
                for i in range(3)] == [401, 401, 429]
        logged = [r.request for r in caplog.records if r.name == "kb.access"]  # type: ignore[attr-defined]
        assert {r["client"] for r in logged} == {"testclient"}
        r = direct.get("/healthz", headers={"X-Request-ID": "spoofed"})
        assert r.headers["x-request-id"] != "spoofed" and len(r.headers["x-request-id"]) == 32


def test_trusted_proxies_setting() -> None:
    assert trusted_networks("") == []
    assert [str(n) for n in trusted_networks("127.0.0.1, 10.0.0.0/8,::1")] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(BadInput):
        trusted_networks("localhost")
    env = {"KB_ROOT_PATH": "kb/", "KB_TRUSTED_PROXIES": "127.0.0.1"}
    s = Settings.from_env(env)
    assert (s.root_path, s.prefix, s.trusted_proxies) == ("kb/", "/kb", "127.0.0.1")
    assert Settings().prefix == ""


def test_the_web_app_in_a_browser_under_the_prefix(fixture_settings: Settings, fixture_index: Index,
                                                   embedder: Embedder, tmp_path: Path) -> None:
    with serving(_settings(fixture_settings, tmp_path), embedder) as url, chromium() as page:
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(url + "/kb/")
        page.fill("#question", "Кто подписывает акты у Ласточки?")
        page.press("#question", "Enter")
        expect(page.locator("#answer-text")).to_contain_text("Павел Орлов", timeout=30_000)
        page.locator("#sources a.source").first.click()
        expect(page.locator("#doc")).to_be_visible(timeout=15_000)
        assert any(u.startswith(url + "/kb/api/ask") for u in requested)
        assert all(u.startswith(url + "/kb/") for u in requested), requested
