"""Swagger's "Try it out" works: every request example of the OpenAPI document the local
runtime serves (/openapi.json, what /docs shows) is posted to that runtime and answers its
documented status, with the documented answer's provider and method. A route on an existing
payment gets one in the state the example is for (needs_review, a card clarification)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tools.openapi_examples import EXAMPLES

from .conftest import Runtime, created

CASES = [
    pytest.param(method, path, example.name, id=f"{method} {path} {example.name}")
    for (method, path), examples in EXAMPLES.items()
    for example in examples
]
CUSTOMER = {"id": "cust-x", "email": "buyer@example.com", "ip_address": "198.51.100.47"}
PAYEE = {"id": "payee-x", "ip_address": "198.51.100.47"}


@pytest.fixture(scope="module")
def document(runtime: Runtime) -> dict[str, Any]:
    served: dict[str, Any] = httpx.get(f"{runtime.api_url}/openapi.json", timeout=30).json()
    return served


def paid_40000_of_50000(runtime: Runtime) -> str:
    body = {"amount": 50_000, "merchant_reference": f"ex-{uuid.uuid4().hex[:8]}"}
    payment = created(runtime, "/v1/paypro/payments", body)
    link = payment["next_action"]["payment_link"]
    assert httpx.post(f"{link}/pay", json={"amount": "40000"}, timeout=30).status_code == 200
    runtime.wait_for_status(payment["id"], "needs_review")
    return str(payment["id"])


def payout_paid_90000_of_100000(runtime: Runtime) -> str:
    body = {"method": "nganluong_wallet", "amount": 100_000, "account_number": "p@example.com",
            "merchant_reference": f"ex-{uuid.uuid4().hex[:8]}", "customer": PAYEE}  # fmt: skip
    payout = created(runtime, "/v1/ecommpay/payouts", body)
    transfer = f"{runtime.sandbox_url('ecommpay')}/_sandbox/payments/{payout['id']}/transfer"
    assert httpx.post(transfer, json={"amount": 90_000}, timeout=30).status_code == 200
    return str(runtime.wait_until(payout["id"], lambda p: p["status"] == "needs_review")["id"])


def asking_for_the_card(runtime: Runtime) -> str:
    body = {"method": "napas_atm", "amount": 120_000, "bank_id": 135, "customer": CUSTOMER,
            "merchant_reference": f"ex-{uuid.uuid4().hex[:8]}"}  # fmt: skip
    payment = created(runtime, "/v1/ecommpay/payments", body)
    asked = runtime.wait_until(
        payment["id"], lambda p: (p["next_action"] or {}).get("type") == "clarification"
    )
    return str(asked["id"])


# A path's `{id}`: a payment or payout in the state its example is for.
PREPARE: dict[str, Callable[[Runtime], str]] = {
    "/v1/payments/{id}/review": paid_40000_of_50000,
    "/v1/payouts/{id}/review": payout_paid_90000_of_100000,
    "/v1/payments/{id}/clarification": asking_for_the_card,
}


@pytest.mark.parametrize(("method", "path", "name"), CASES)
def test_each_documented_example_answers_its_documented_status(
    runtime: Runtime, document: dict[str, Any], method: str, path: str, name: str
) -> None:
    operation = document["paths"][path][method.lower()]
    request = operation["requestBody"]["content"]["application/json"]["examples"][name]["value"]
    (status, documented) = next(
        (int(code), answer["content"]["application/json"]["examples"][name]["value"])
        for code, answer in operation["responses"].items()
        if name in answer.get("content", {}).get("application/json", {}).get("examples", {})
    )
    url = path.replace("{id}", PREPARE[path](runtime)) if "{id}" in path else path
    if path.endswith("/payouts"):  # one payout per merchant_reference: this run's own
        request = {
            **request,
            "merchant_reference": f"{request['merchant_reference']}-{uuid.uuid4().hex[:6]}",
        }
    caller = runtime.operator("reviewer") if path.endswith("/review") else runtime.client()
    with caller as client:
        answer = client.post(url, json=request, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == status, answer.text
    got = answer.json()
    assert (got["provider"], got["method"]) == (documented["provider"], documented["method"])
    assert got["amount"] == documented["amount"]
    if re.fullmatch(r"/v1/[a-z]+/(payments|payouts)", path):
        assert got["status"] in ("pending", "requires_action", "processing"), got
    else:
        assert got["status"] == documented["status"]


def test_the_served_document_lists_exactly_these_examples(document: dict[str, Any]) -> None:
    served = {
        (method.upper(), path): set(
            operation["requestBody"]["content"]["application/json"]["examples"]
        )
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "examples"
        in operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    }
    assert served == {key: {e.name for e in examples} for key, examples in EXAMPLES.items()}
