"""The sales team's features through the HTTP API and the CLI, on the demo content.

Briefings, gaps that get answered into the content, stale documents flagged and verified, coverage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from kb.cli import main
from kb.embedding import Embedder
from kb.lint import lint
from kb.search import Index
from kb.settings import Settings

from .conftest import TODAY

OVERDUE = {"clients/severtrans.md", "clients/volga-textile.md", "policies/gifts-travel.md"}
FLEET = "Есть ли у Ромашки собственный автопарк?"


@pytest.fixture(scope="module")
def demo(demo_settings: Settings, demo_index: Index, embedder: Embedder) -> Iterator[TestClient]:
    """The demo knowledge base, read only."""
    with TestClient(create_app(demo_settings, embedder, clock=lambda: TODAY)) as c:
        yield c


@pytest.fixture()
def writable(demo_copy: Settings, embedder: Embedder) -> Iterator[TestClient]:
    """A private copy of the demo knowledge base that tests may write to."""
    with TestClient(create_app(demo_copy, embedder, clock=lambda: TODAY)) as c:
        yield c


def test_brief_shows_payment_terms_with_a_citation(demo: TestClient) -> None:
    brief = demo.get("/api/clients/romashka/brief").json()
    assert brief["title"] == "ООО «Ромашка»" and brief["owner"].startswith("Дмитрий Соколов")
    payment = next(p for p in brief["parts"] if p["key"] == "payment")
    line = next(x for x in payment["lines"] if "45 календарных дней" in x["text"])
    assert line["source"] == {"path": "clients/romashka.md", "heading_path": ["ООО «Ромашка»", "Условия оплаты"],
                              "start_line": 46, "end_line": 46, "anchor": "ооо-ромашка-условия-оплаты",
                              "stale": False}
    doc = demo.get("/api/documents/clients/romashka.md").json()
    assert 'data-start-line="46"' in doc["html"] and "45 календарных дней" in doc["html"]
    assert [p["key"] for p in brief["parts"]][:4] == ["due", "issues", "contacts", "promises"]
    assert demo.get("/api/clients/nobody/brief").json()["error"]["code"] == "not_found"


def test_openapi_lists_the_new_endpoints(demo: TestClient) -> None:
    paths = demo.get("/openapi.json").json()["paths"]
    for p in ("/api/clients/{client_id}/brief", "/api/gaps/{gap_id}/answer", "/api/stale", "/api/coverage",
              "/api/documents/{path}/verify"):
        assert p in paths


def test_an_unanswerable_question_becomes_a_gap_that_the_owner_answers(writable: TestClient,
                                                                       demo_copy: Settings) -> None:
    first = writable.post("/api/ask", json={"question": FLEET, "client": "romashka"}).json()
    assert not first["answered"] and first["gap_id"] > 0
    again = writable.post("/api/ask", json={"question": "У Ромашки свои грузовики есть?"}).json()
    assert not again["answered"]

    gap = next(g for g in writable.get("/api/gaps").json()["gaps"] if g["client"] == "romashka")
    assert gap["id"] == first["gap_id"] and gap["count"] == 2 and gap["status"] == "open"
    assert set(gap["examples"]) == {FLEET, "У Ромашки свои грузовики есть?"}
    assert gap["owner"].startswith("Дмитрий Соколов") and gap["topic_path"] == "clients/romashka.md"

    answer = "Да: у «Ромашки» собственный автопарк из 14 грузовиков, доставкой управляет РЦ Шушары."
    done = writable.post(f"/api/gaps/{gap['id']}/answer", json={"answer": answer}).json()
    assert (done["path"], done["heading"], done["created"], done["questions"]) == (
        "clients/romashka-faq.md", FLEET, True, 2)
    text = (demo_copy.content_dir / "clients" / "romashka-faq.md").read_text("utf-8")
    assert "type: faq\nclient: romashka\n" in text and "owner: Дмитрий Соколов" in text
    assert "verified: 2026-11-27" in text
    assert f"## {FLEET}\n\n{answer}\n\n[//]: # (Ответ: Дмитрий Соколов, 2026-11-27)\n" in text

    cited = writable.post("/api/ask", json={"question": FLEET, "client": "romashka"}).json()
    assert cited["answered"] and cited["answer"] == answer
    assert (cited["sources"][0]["path"], cited["sources"][0]["anchor"]) == (done["path"], done["anchor"])
    assert not any(g["client"] == "romashka" for g in writable.get("/api/gaps").json()["gaps"])
    answered = writable.get("/api/gaps?status=answered").json()["gaps"]
    assert answered[0]["answer_path"] == "clients/romashka-faq.md" and answered[0]["count"] == 2
    assert writable.post(f"/api/gaps/{gap['id']}/answer", json={"answer": "ещё"}).status_code == 400
    assert lint(demo_copy.content_dir, TODAY).errors == 0

    brief = writable.get("/api/clients/romashka/brief").json()
    parts = {p["key"]: p for p in brief["parts"]}
    asked = parts["questions"]["lines"][0]
    assert asked["count"] == 3 and asked["source"]["path"] == "clients/romashka-faq.md"
    assert any(x["kind"] == "added" and x["source"]["path"] == "clients/romashka-faq.md"
               for x in parts["changes"]["lines"])


def test_unhelpful_answers_become_gaps_of_the_clients_owner(writable: TestClient) -> None:
    asked = writable.post("/api/ask", json={"question": "Какая отсрочка платежа у СеверТранс?"}).json()
    assert asked["answered"] and asked["question_id"] > 0
    writable.post("/api/feedback", json={"question": "Какая отсрочка платежа у СеверТранс?", "answer": asked["answer"],
                                         "helpful": False, "question_id": asked["question_id"]})
    gap = writable.get("/api/gaps").json()["gaps"][0]
    assert (gap["reason"], gap["client"], gap["topic_path"]) == ("unhelpful", "severtrans", "clients/severtrans.md")
    assert gap["owner"].startswith("Игорь Волков")


def test_stale_documents_are_flagged_reported_and_verified(writable: TestClient, demo_copy: Settings) -> None:
    asked = writable.post("/api/ask", json={"question": "Какая отсрочка платежа у СеверТранс?"}).json()
    top = asked["sources"][0]
    assert (top["path"], top["stale"], top["verified"], top["review_due"]) == (
        "clients/severtrans.md", True, "2026-06-30", "2026-09-28")
    fresh = writable.post("/api/ask", json={"question": "Какая отсрочка платежа у Ромашки?"}).json()["sources"][0]
    assert fresh["path"] == "clients/romashka.md" and not fresh["stale"]

    report = writable.get("/api/stale").json()
    assert report["today"] == "2026-11-27"
    assert {d["path"] for o in report["owners"] for d in o["documents"]} == OVERDUE
    volkov = next(o for o in report["owners"] if o["owner"].startswith("Игорь Волков"))
    assert [(d["path"], d["overdue_days"]) for d in volkov["documents"]] == [("clients/severtrans.md", 60)]
    soon = writable.get("/api/stale?within=30").json()
    assert {d["path"] for o in soon["owners"] for d in o["documents"]} > OVERDUE

    path = demo_copy.content_dir / "clients" / "severtrans.md"
    before = path.read_bytes()
    assert writable.get("/api/documents/clients/severtrans.md").json()["freshness"]["stale"] is True
    done = writable.post("/api/documents/clients/severtrans.md/verify").json()
    assert (done["verified"], done["review_due"], done["stale"]) == ("2026-11-27", "2027-02-25", False)
    after = path.read_bytes()
    assert after == before.replace(b"verified: 2026-06-30", b"verified: 2026-11-27")
    again = writable.post("/api/ask", json={"question": "Какая отсрочка платежа у СеверТранс?"}).json()
    assert not again["sources"][0]["stale"]
    assert {d["path"] for o in writable.get("/api/stale").json()["owners"] for d in o["documents"]} == OVERDUE - {
        "clients/severtrans.md"}
    assert writable.post("/api/documents/clients/none.md/verify").status_code == 404


def test_coverage_counts_documents_owners_and_questions(writable: TestClient) -> None:
    answered = [writable.post("/api/ask", json=body).json()["answered"] for body in (
        {"question": "Какая отсрочка платежа у Ромашки?"},
        {"question": "Есть ли у Ромашки собственный вертолёт?", "client": "romashka"},
        {"question": "Сколько стоит лицензия ТСД?"},  # names no client: counted for nobody
    )]
    assert answered[:2] == [True, False]
    data = writable.get("/api/coverage").json()
    romashka = next(c for c in data["clients"] if c["client"] == "romashka")
    assert (romashka["documents"], romashka["asked"], romashka["answered"], romashka["single_owner"]) == (1, 2, 1, True)
    assert len(data["clients"]) == 17 and all(c["single_owner"] for c in data["clients"])
    sokolov = next(o for o in data["single_owner"] if o["owner"].startswith("Дмитрий Соколов"))
    assert set(sokolov["clients"]) == {"romashka", "baltfood", "neva-pharm", "piksel-market"}
    severtrans = next(c for c in data["clients"] if c["client"] == "severtrans")
    assert severtrans["stale"] == 1


def test_commands(demo_copy: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in (("KB_CONTENT_DIR", demo_copy.content_dir), ("KB_INDEX_DIR", demo_copy.index_dir),
                       ("KB_DATA_DIR", demo_copy.data_dir)):
        monkeypatch.setenv(var, str(value))
    runner = CliRunner()

    def run(*args: str) -> dict:  # type: ignore[type-arg]
        result = runner.invoke(main, [*args, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    stale = run("stale", "--today", "2026-11-27")
    assert {d["path"] for o in stale["owners"] for d in o["documents"]} == OVERDUE
    asked = run("ask", "Какая отсрочка платежа у СеверТранс?")
    assert asked["stale"] == ["clients/severtrans.md"]
    assert set(asked["sources"][0]) == {"path", "heading", "heading_path", "text", "score", "start_line", "end_line"}
    plain = runner.invoke(main, ["ask", "Какая отсрочка платежа у СеверТранс?"]).output
    assert "review overdue since 2026-09-28" in plain
    verified = run("verify", "clients/severtrans.md", "--today", "2026-11-27")
    assert verified["review_due"] == "2027-02-25"
    assert len(run("stale", "--today", "2026-11-27")["owners"]) == 2
    run("ask", FLEET, "--client", "romashka")
    assert run("gaps")["gaps"][0]["question"] == FLEET
    assert run("coverage")["clients"][0]["single_owner"] is True
