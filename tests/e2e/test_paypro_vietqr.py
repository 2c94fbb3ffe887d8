"""A VietQR payment end to end through the local runtime: create → pay (or decline) in the
Paypro sandbox → signed notify → GET → exactly one published event per status change."""

from __future__ import annotations

from typing import Any

import httpx

from paygate.events import StatusChanged

from .conftest import Runtime, created, payment_of

ORDER = {"amount": 50000, "currency": "VND", "merchant_reference": "e2e-order"}


def create(runtime: Runtime, **overrides: Any) -> dict[str, Any]:
    return created(runtime, "/v1/paypro/payments", {**ORDER, **overrides})


def sandbox_action(payment: dict[str, Any], action: str) -> dict[str, Any]:
    link = payment["next_action"]["payment_link"]
    answer = httpx.post(f"{link}/{action}", json={}, timeout=10)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_pay_in_the_sandbox_ends_succeeded_with_one_event_per_change(runtime: Runtime) -> None:
    payment = create(runtime)
    assert payment["status"] == "requires_action"
    page = httpx.get(payment["next_action"]["payment_link"], timeout=10)
    assert page.status_code == 200 and "Pay" in page.text
    assert sandbox_action(payment, "pay")["delivered"] is True
    final = runtime.wait_for_status(payment["id"], "succeeded")
    assert final["amount"] == 50000 and final["failure"] is None
    events = runtime.events_for(payment["id"], 3)
    assert [(e["previous_status"], e["status"]) for e in events] == [
        (None, "created"),
        ("created", "requires_action"),
        ("requires_action", "succeeded"),
    ]
    assert len({e["event_id"] for e in events}) == 3
    for event in events:
        StatusChanged.model_validate(event)
        assert set(event) == set(StatusChanged.model_fields)


def test_decline_ends_failed_with_the_provider_code(runtime: Runtime) -> None:
    payment = create(runtime, merchant_reference="e2e-decline")
    sandbox_action(payment, "decline")
    final = runtime.wait_for_status(payment["id"], "failed")
    assert final["failure"]["provider_code"] == "00029"
    events = runtime.events_for(payment["id"], 3)
    assert [e["status"] for e in events] == ["created", "requires_action", "failed"]
    assert events[-1]["failure"]["provider_code"] == "00029"


def test_redelivered_notify_publishes_nothing_more(runtime: Runtime) -> None:
    payment = create(runtime, merchant_reference="e2e-resend")
    sandbox_action(payment, "pay")
    runtime.wait_for_status(payment["id"], "succeeded")
    for _ in range(2):
        assert sandbox_action(payment, "resend")["delivered"] is True
    assert len(runtime.events_for(payment["id"], 3)) == 3


def test_api_key_is_enforced(runtime: Runtime) -> None:
    missing = httpx.post(f"{runtime.api_url}/v1/paypro/payments", json=ORDER)
    wrong = httpx.get(f"{runtime.api_url}/v1/payments/x", headers={"x-api-key": "nope"})
    assert (missing.status_code, wrong.status_code) == (401, 403)
    assert wrong.json()["error"]["code"] == "invalid_api_key"


def test_webhook_with_a_bad_sign_is_a_401(runtime: Runtime) -> None:
    payment = create(runtime, merchant_reference="e2e-badsign")
    body = {"status": "0000", "tradeNo": payment["id"], "amount": "50000", "sign": "0" * 32}
    answer = httpx.post(f"{runtime.api_url}/webhooks/paypro", json=body)
    assert answer.status_code == 401
    assert payment_of(runtime, payment["id"])["status"] == "requires_action"
