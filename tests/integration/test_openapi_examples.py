"""The OpenAPI document's examples (tools/openapi_examples.py) are valid for their routes: each
request validates against the route's request model, each answer against its response model,
and shows that route's provider and method; every operation with a body has one, and every
operation documents its success answer. That they succeed against the local runtime is
tests/e2e/test_openapi_examples.py."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import BaseModel

from paygate import api_models, api_requests
from tools.openapi import DOCUMENT_PATH
from tools.openapi_examples import EXAMPLES, Example

# The checked-in document (tests/integration/test_openapi.py: it is what the code generates).
DOCUMENT = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
CASES = [
    pytest.param(method, path, example, id=f"{method} {path} {example.name}")
    for (method, path), examples in EXAMPLES.items()
    for example in examples
]


def model(schema: dict[str, Any]) -> type[BaseModel]:
    name = schema["$ref"].rsplit("/", 1)[1]
    found: type[BaseModel] = getattr(api_requests, name, None) or getattr(api_models, name)
    return found


def media(operation: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    part = operation["requestBody"] if status is None else operation["responses"][status]
    content: dict[str, Any] = part["content"]["application/json"]
    return content


@pytest.mark.parametrize(("method", "path", "example"), CASES)
def test_each_example_is_valid_for_its_route(method: str, path: str, example: Example) -> None:
    operation = DOCUMENT["paths"][path][method.lower()]
    request = media(operation)
    assert request["examples"][example.name]["value"] == example.request
    model(request["schema"]).model_validate(example.request)
    answer = media(operation, str(example.status))
    assert answer["examples"][example.name]["value"] == example.answer
    model(answer["schema"]).model_validate(example.answer)
    created = re.fullmatch(r"/v1/([a-z]+)/(payments|payouts)", path)
    if created:  # the route's own provider and the method asked for
        assert example.answer["provider"] == created.group(1)
        assert example.answer["method"] == example.request["method"] == example.name
        assert example.answer["amount"] == example.request["amount"]
        assert example.answer["merchant_reference"] == example.request["merchant_reference"]


def test_the_paypro_payment_try_it_out_body_is_accepted() -> None:
    """The issue's case: Swagger's default body (the first example) meets Paypro's minimum."""
    operation = DOCUMENT["paths"]["/v1/paypro/payments"]["post"]
    first = next(iter(media(operation)["examples"].values()))["value"]
    assert first["amount"] >= 50_000 and first["method"] == "vietqr"
    assert re.fullmatch(r"[a-z.]+@example\.com", first["customer"]["email"])


def test_every_operation_with_a_body_has_examples_and_every_one_a_success() -> None:
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            assert any(code.startswith("2") for code in operation["responses"]), (method, path)
            if "requestBody" in operation and not path.startswith("/webhooks/"):
                assert media(operation)["examples"], (method, path)
