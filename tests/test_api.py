"""Every endpoint through TestClient(create_app(settings)) on a real small index."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.embedding import Embedder
from kb.search import Index
from kb.settings import Settings

from .conftest import build, copy_fixtures, make_settings


@pytest.fixture()
def client(fixture_settings: Settings, fixture_index: Index, embedder: Embedder) -> Iterator[TestClient]:
    with TestClient(create_app(fixture_settings, embedder)) as c:
        yield c


def test_health_and_metrics(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and set(health) == {"status", "generation"}
    client.post("/api/ask", json={"question": "Какой курс биткоина будет в следующем году?"})
    text = client.get("/metrics").text
    assert "kb_requests_total" in text and "kb_request_seconds" in text
    assert 'kb_requests_total{route="/api/ask",status="200"} 1.0' in text
    assert 'kb_requests_total{route="/healthz",status="200"} 1.0' in text
    assert 'kb_request_seconds_count{route="/api/ask"} 1.0' in text
    client.get("/api/gaps/12345/nothing")
    assert 'kb_requests_total{route="/api/gaps/{id}/nothing",status="404"} 1.0' in client.get("/metrics").text
    assert "kb_refusals_total 1.0" in text and "kb_index_passages 11.0" in text


def test_search(client: TestClient) -> None:
    hits = client.post("/api/search", json={"query": "SLA критический", "k": 2}).json()["hits"]
    assert len(hits) == 2 and (hits[0]["path"], hits[0]["heading"]) == ("products/sklad.md", "SLA")
    assert hits[0]["anchor"] == "склад-про-sla"
    only = client.post("/api/search", json={"query": "оплата", "filters": {"client": "zenit"}}).json()["hits"]
    paths = {h["path"] for h in only}  # the client's card and general documents, no other client's
    assert "clients/zenit.md" in paths and not {p for p in paths if p.startswith("clients/")} - {"clients/zenit.md"}


def test_ask_answers_and_refuses(client: TestClient) -> None:
    good = client.post("/api/ask", json={"question": "Кто подписывает акты?", "client": "lastochka"}).json()
    assert good["answered"] and "Павел Орлов" in good["answer"]
    assert good["verdict"] in ("confident", "check the source") and good["gap_id"] is None
    assert good["sources"][0]["path"] == "clients/lastochka.md" and good["client"]["id"] == "lastochka"
    assert not [s for s in good["sources"] if s["path"].startswith("clients/") and s["path"] != "clients/lastochka.md"]
    bad = client.post("/api/ask", json={"question": "Какой курс биткоина будет в следующем году?"}).json()
    assert not bad["answered"] and bad["answer"] is None and bad["gap_id"] > 0
    assert bad["verdict"] == "not in the knowledge base"


def test_document_with_anchors_and_lines(client: TestClient) -> None:
    doc = client.get("/api/documents/clients/lastochka.md").json()
    assert doc["title"] == "ООО «Ласточка»" and doc["meta"]["client"] == "lastochka"
    assert 'id="ооо-ласточка-договор-оплата"' in doc["html"]
    assert 'data-start-line="28"' in doc["html"] and "title: ООО" not in doc["html"]
    oplata = next(s for s in doc["sections"] if s["heading"] == "Оплата")
    assert (oplata["level"], oplata["start_line"], oplata["end_line"]) == (3, 26, 29)
    for bad in ("../README.md", "..%2F..%2Fetc%2Fpasswd", "/etc/passwd", "clients/none.md", "%2Fetc%2Fpasswd"):
        r = client.get(f"/api/documents/{bad}")
        assert r.status_code == 404 and r.json()["error"]["code"] in ("not_found", "http"), bad


def test_clients(client: TestClient) -> None:
    clients = client.get("/api/clients").json()["clients"]
    assert {c["id"] for c in clients} == {"lastochka", "zenit"}
    one = client.get("/api/clients/lastochka").json()
    assert one["title"] == "ООО «Ласточка»" and [d["path"] for d in one["documents"]] == ["clients/lastochka.md"]
    assert client.get("/api/clients/nobody").status_code == 404


def test_feedback_and_gaps(client: TestClient) -> None:
    q = f"Есть ли у Ласточки скидка на обучение? {time.time()}"
    assert client.post("/api/feedback", json={"question": q, "answer": "нет", "helpful": False}).json()["id"] > 0
    assert client.post("/api/feedback", json={"question": q, "answer": "нет", "helpful": False}).status_code == 200
    gaps = client.get("/api/gaps").json()["gaps"]
    assert gaps[0]["question"] == q and gaps[0]["count"] == 2 and gaps[0]["reason"] == "unhelpful"


def test_errors(client: TestClient, tmp_path: Path, embedder: Embedder) -> None:
    cases = [
        (client.post("/api/ask", json={"question": "x" * 5000}), 422, "too_long"),
        (client.post("/api/search", json={"query": "a", "filters": {"colour": "red"}}), 400, "bad_input"),
        (client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"}), 422, None),
        (client.post("/api/ask", json={"question": 42}), 422, "invalid_request"),
        (client.post("/api/search", json={"query": "a", "k": 0}), 422, "invalid_request"),
        (client.post("/api/ask", content=b"x" * 200_000, headers={"content-type": "application/json"}), 413,
         "too_large"),
        (client.post("/api/ask", json={"question": "\x00\x01\x02"}), 400, "bad_input"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert "error" in response.json() and (code is None or response.json()["error"]["code"] == code)
    with TestClient(create_app(Settings.from_env(index_dir=tmp_path / "none", data_dir=tmp_path), embedder)) as empty:
        r = empty.post("/api/search", json={"query": "SLA"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "no_index"


def test_openapi_lists_every_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/ask", "/api/search", "/api/documents/{path}", "/api/clients", "/api/clients/{client_id}",
              "/api/feedback", "/api/gaps", "/api/reindex", "/healthz"):
        assert p in paths
    assert client.get("/docs").status_code == 200


def test_reindex_and_live_content(tmp_path: Path, embedder: Embedder) -> None:
    copy_fixtures(tmp_path / "content")
    settings = make_settings(tmp_path, tmp_path / "content")
    build(settings, embedder)
    target = tmp_path / "content" / "clients" / "zenit.md"
    with TestClient(create_app(settings, embedder)) as c:
        target.write_text(target.read_text("utf-8").replace("Антон Белов", "Вера Павлова"), "utf-8")
        report = c.post("/api/reindex").json()
        assert report["updated"] == 1 and report["unchanged"] == 2
        hits = c.post("/api/search", json={"query": "кто подписывает акты Зенит", "k": 3}).json()["hits"]
        assert any("Вера Павлова" in h["text"] for h in hits)

    live = Settings.from_env(content_dir=tmp_path / "content", index_dir=tmp_path / "index",
                             data_dir=tmp_path / "data", watch=True)
    with TestClient(create_app(live, embedder)) as c:
        time.sleep(1)
        (tmp_path / "content" / "clients" / "new.md").write_text(
            "---\ntitle: ООО «Новый»\ntype: client\nclient: novyi\n---\n# ООО «Новый»\n\n"
            "## Условия оплаты\n\nОтсрочка платежа 75 календарных дней.\n", "utf-8")
        deadline = time.monotonic() + 60
        found = False
        while time.monotonic() < deadline and not found:
            hits = c.post("/api/search", json={"query": "отсрочка платежа Новый", "k": 3}).json()["hits"]
            found = any("75 календарных" in h["text"] for h in hits)
            time.sleep(0.5)
        assert found, "the new file was not picked up by the watcher"
        target.unlink()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "zenit" in {x["id"] for x in c.get("/api/clients").json()["clients"]}:
            time.sleep(0.5)
        assert "zenit" not in {x["id"] for x in c.get("/api/clients").json()["clients"]}


def test_russian_typed_on_the_english_layout_is_understood(client: TestClient) -> None:
    from kb.text import _LAYOUT

    to_latin = {v: k for k, v in _LAYOUT.items()}
    meant = "кто подписывает акты у ласточки"
    typed = "".join(to_latin.get(ch, ch) for ch in meant)
    assert typed.startswith("rnj gjlgbcsdftn")
    data = client.post("/api/ask", json={"question": typed}).json()
    assert data["question"] == meant and data["answered"] and "Павел Орлов" in data["answer"]
    hits = client.post("/api/search", json={"query": typed, "k": 1}).json()["hits"]
    assert hits[0]["path"] == "clients/lastochka.md"
    english = client.post("/api/ask", json={"question": "What is the REST API rate limit?"}).json()
    assert english["question"] == "What is the REST API rate limit?"
