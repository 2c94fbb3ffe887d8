"""schemathesis against the OpenAPI document the local runtime serves: generated requests for
every operation never get a server error. On a runtime of its own: the hundreds of records it
creates would slow moto down for whatever ran after it on a shared one. Marked `early` (the
longest test of the suite; tests/conftest.py orders the session). Besides schemathesis's
boundary-value (coverage) cases, about 2,000 requests whatever the count, `make test` draws 10
random requests per operation (a 500 for an unsupported media type, the first server error
this test found, then fails every create); `PAYGATE_SOAK=1` (`make test-soak`), 50."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.support.runtimes import own_runtime

from .conftest import Runtime

SOAK = os.environ.get("PAYGATE_SOAK", "") not in ("", "0")
EXAMPLES_PER_OPERATION = 50 if SOAK else 10


@pytest.fixture(scope="module")
def schema_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    yield from own_runtime(tmp_path_factory, "paygate-schema")


@pytest.fixture(scope="module")
def api_schema(schema_runtime: Runtime) -> Any:
    """The served document without its named examples: those are posted, each once, by
    test_openapi_examples.py; here schemathesis would build hundreds of valid creates on them
    (6+ minutes of moto transactions, and its 2 s read timeouts) instead of its own requests."""
    document = httpx.get(f"{schema_runtime.api_url}/openapi.json", timeout=30).json()
    for operations in document["paths"].values():
        for operation in operations.values():
            parts = [operation.get("requestBody", {}), *operation["responses"].values()]
            for part in parts:
                part.get("content", {}).get("application/json", {}).pop("examples", None)
    return schemathesis.openapi.from_dict(document)


schema = schemathesis.pytest.from_fixture("api_schema")
pytestmark = pytest.mark.early


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case: Any, schema_runtime: Runtime) -> None:
    runtime = schema_runtime
    headers = {"x-api-key": runtime.api_key}
    if case.method.upper() == "POST" and case.path.endswith(("/payments", "/payouts")):
        headers["Idempotency-Key"] = uuid.uuid4().hex
    response = case.call(base_url=runtime.api_url, headers=headers, timeout=30)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    assert "Traceback" not in response.text
