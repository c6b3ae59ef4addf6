"""Schema-driven fuzzing of every endpoint in the OpenAPI spec: no input gets a 500."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from api.app import create_app
from kb.embedding import Embedder

from .conftest import build, copy_fixtures, make_settings


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Any:
    tmp = tmp_path_factory.mktemp("fuzz")
    copy_fixtures(tmp / "content")
    settings = make_settings(tmp, tmp / "content")
    build(settings, embedder)
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, embedder))


def test_no_input_gets_a_server_error(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            response = case.call()
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])

        call()
