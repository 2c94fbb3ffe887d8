"""schemathesis against the OpenAPI document the local runtime serves: generated requests for
every operation never get a server error. Runs late in the e2e session (its name): the
hundreds of records it creates slow moto down for whatever runs after it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from .conftest import Runtime

EXAMPLES_PER_OPERATION = 20


@pytest.fixture(scope="session")
def api_schema(runtime: Runtime) -> Any:
    return schemathesis.openapi.from_url(f"{runtime.api_url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case: Any, runtime: Runtime) -> None:
    headers = {"x-api-key": runtime.api_key}
    if case.method.upper() == "POST" and case.path.endswith(("/payments", "/payouts")):
        headers["Idempotency-Key"] = uuid.uuid4().hex
    response = case.call(base_url=runtime.api_url, headers=headers, timeout=30)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    assert "Traceback" not in response.text
