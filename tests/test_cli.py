"""The kb command: every command with --json, settings at the edge, the docs list them all."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import main
from kb.datastore import DataStore
from kb.search import Index
from kb.settings import ENVIRONMENT, Settings

from .conftest import ROOT


@pytest.fixture()
def runner(fixture_settings: Settings, fixture_index: Index, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("KB_CONTENT_DIR", str(fixture_settings.content_dir))
    monkeypatch.setenv("KB_INDEX_DIR", str(fixture_settings.index_dir))
    monkeypatch.setenv("KB_DATA_DIR", str(fixture_settings.data_dir))
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(main, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_search_shape(runner: CliRunner) -> None:
    data = invoke(runner, "search", "SLA критический приоритет", "--k", "2")
    assert len(data["hits"]) == 2
    hit = data["hits"][0]
    assert set(hit) == {"path", "heading", "heading_path", "text", "score", "start_line", "end_line"}
    assert (hit["path"], hit["heading"]) == ("products/sklad.md", "SLA")
    assert hit["heading_path"] == ["Склад Про", "SLA"] and hit["start_line"] < hit["end_line"]


def test_search_client_filter(runner: CliRunner) -> None:
    data = invoke(runner, "search", "кто подписывает акты", "--client", "zenit", "--k", "5")
    assert data["hits"] and {h["path"] for h in data["hits"]} == {"clients/zenit.md"}


def test_ask_answers_with_sources(runner: CliRunner) -> None:
    data = invoke(runner, "ask", "Какая отсрочка платежа у Ласточки?")
    assert data["answered"] is True
    assert "30 календарных дней" in data["answer"]
    assert 0.0 <= data["confidence"] <= 1.0
    assert data["sources"][0]["path"] == "clients/lastochka.md"
    assert data["sources"][0]["heading_path"] == ["ООО «Ласточка»", "Договор", "Оплата"]


def test_ask_refuses_records_a_gap_and_names_the_owner(runner: CliRunner, fixture_settings: Settings) -> None:
    question = "Какой курс биткоина будет в следующем году?"
    data = invoke(runner, "ask", question)
    assert data["answered"] is False and data["answer"] is None and data["gap_id"] > 0
    gaps = DataStore(fixture_settings.data_dir).gaps()
    assert gaps[0].question == question and gaps[0].reason == "refused"
    plain = runner.invoke(main, ["ask", question])
    assert "does not know" in plain.output


def test_ingest_and_status(runner: CliRunner) -> None:
    data = invoke(runner, "ingest")
    assert set(data) >= {"files", "added", "updated", "removed", "unchanged", "passages", "errors"}
    assert data["unchanged"] == data["files"] == 3 and data["errors"] == []
    status = invoke(runner, "status")
    assert status["passages"] == data["passages"] and status["model"] == Settings().model


def test_overrides_beat_the_environment(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["status", "--index", str(tmp_path / "nowhere")])
    assert result.exit_code != 0 and "no index" in result.output


def test_fts_syntax_is_plain_text(runner: CliRunner) -> None:
    for query in ['"unbalanced', "NEAR(SLA Pro)", "col:value *", "AND OR NOT", "💥🚀", ")))"]:
        invoke(runner, "search", query)


def test_every_command_and_setting_is_documented() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in main.commands:  # type: ignore[attr-defined]
        assert re.search(rf"kb {name}\b", readme), f"command {name} missing from README"
    for var in ENVIRONMENT:
        assert var in readme, f"setting {var} missing from README"
