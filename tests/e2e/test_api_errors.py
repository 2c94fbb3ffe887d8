"""Errors a person can act on, over HTTP against the local runtime: an unknown route is a 404
naming it, a missing or wrong key a 403 naming `x-api-key` (template.yaml's gateway responses),
a body that is not JSON a 415 saying to send JSON; answers are UTF-8 with Vietnamese
unescaped. Throttling (429 with Retry-After) is the template's too: tests/unit/
test_gateway_responses.py renders it, and the front door applies it when asked
(`PAYGATE_THROTTLE`, off for `make run`)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from tests.support.runtimes import BASE_ENVIRONMENT

from .conftest import API_KEY, Ports, Runtime, start_runtime, stop_runtime

JSON_UTF8 = "application/json; charset=utf-8"
ORDER = {"amount": 50_000, "currency": "VND", "merchant_reference": "order-1001"}


def error_of(answer: httpx.Response, status: int) -> dict[str, str]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == JSON_UTF8
    error: dict[str, str] = answer.json()["error"]
    return error


def test_a_mistyped_path_is_a_404_naming_it_and_the_docs(runtime: Runtime) -> None:
    with runtime.client() as client:
        answer = client.post("/v1/momo/payments", json=ORDER)
        wrong_method = client.delete("/v1/paypro/payments")
    error = error_of(answer, 404)
    assert (error["code"], error["field"]) == ("route_not_found", "path")
    assert error["message"].startswith("no route POST /v1/momo/payments: ")
    assert "openapi.json" in error["message"] and "/docs" in error["message"]
    assert error_of(wrong_method, 404)["message"].startswith("no route DELETE /v1/paypro/payments")


def test_the_favicon_is_not_a_403(runtime: Runtime) -> None:
    answer = httpx.get(f"{runtime.api_url}/favicon.ico", timeout=10)
    assert answer.status_code != 403
    if answer.status_code == 404:
        assert error_of(answer, 404)["code"] == "route_not_found"


def test_a_missing_key_is_a_401_and_a_wrong_one_a_403_naming_the_header(runtime: Runtime) -> None:
    url = f"{runtime.api_url}/v1/paypro/payments"
    missing = error_of(httpx.post(url, json=ORDER, timeout=10), 401)
    assert "x-api-key header" in missing["message"]  # the 401 the operator routes share
    wrong = httpx.get(f"{runtime.api_url}/v1/payments/x", headers={"x-api-key": "nope"})
    error = error_of(wrong, 403)
    assert (error["code"], error["field"]) == ("invalid_api_key", "x-api-key")
    assert "x-api-key header" in error["message"]


def test_curl_d_without_a_content_type_is_a_415_saying_to_send_json(runtime: Runtime) -> None:
    """`curl -d '{...}'` sends JSON text as a form: refused, not read as missing fields."""
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    order = json.dumps({**ORDER, "merchant_reference": f"form-{uuid.uuid4().hex[:12]}"})
    with runtime.client() as client:
        form = client.post(
            "/v1/paypro/payments",
            content=order,
            headers={**headers, "content-type": "application/x-www-form-urlencoded"},
        )
        text = client.post(
            "/v1/paypro/payments", content=order, headers={**headers, "content-type": "text/plain"}
        )
        reference = json.loads(order)["merchant_reference"]
    with runtime.operator("viewer") as operator:
        listed = operator.get("/v1/payments", params={"merchant_reference": reference})
    for answer, media_type in ((form, "application/x-www-form-urlencoded"), (text, "text/plain")):
        error = error_of(answer, 415)
        assert (error["code"], error["field"]) == ("unsupported_media_type", "Content-Type")
        assert error["message"] == (
            "send the body as JSON with the header 'Content-Type: application/json'"
            f" (this body came as {media_type})"
        )
    assert listed.json()["data"] == []  # nothing was recorded


def test_answers_are_utf8_with_vietnamese_unescaped(runtime: Runtime) -> None:
    reference = f"đơn-hàng-{uuid.uuid4().hex[:8]}"
    with runtime.client() as client:
        created = client.post(
            "/v1/paypro/payments",
            json={**ORDER, "merchant_reference": reference},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == JSON_UTF8
    assert f'"merchant_reference":"{reference}"'.encode() in created.content
    assert b"\\u" not in created.content


def test_a_throttled_request_is_a_429_with_retry_after(tmp_path: Path) -> None:
    """API Gateway's stage throttle, emulated by the local front door when asked
    (`PAYGATE_THROTTLE`): a bucket of one request that refills in about 17 minutes, so the
    second request of a route is throttled whatever the machine's speed."""
    running = start_runtime(
        Ports.free(), tmp_path, base_env=BASE_ENVIRONMENT, extra_env={"PAYGATE_THROTTLE": "0.001,1"}
    )
    try:
        headers = {"x-api-key": API_KEY}
        first = httpx.get(
            f"{running.api_url}/v1/payments/pay_20261207000000abcdef0123", headers=headers
        )
        assert first.status_code == 404  # served: no such payment
        second = httpx.get(
            f"{running.api_url}/v1/payments/pay_20261207000000abcdef0124", headers=headers
        )
        error = error_of(second, 429)
        assert error["code"] == "rate_limited" and "Retry-After" in error["message"]
        assert second.headers["retry-after"] == "1"
        operator = {"Authorization": running.operator_token("viewer")}
        other_route = httpx.get(f"{running.api_url}/v1/payments", headers=operator)
        assert other_route.status_code == 200  # a bucket per route, as API Gateway's methods
    finally:
        assert stop_runtime(running) == 0
