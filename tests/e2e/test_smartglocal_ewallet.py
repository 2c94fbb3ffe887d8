"""Smart Glocal e-wallet payments end to end through the local runtime: create → the sandbox's
signed webhooks (ready_to_confirm → action_required → payment_finished) → confirm/cancel →
GET → exactly one published event per status change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from .conftest import Runtime, created, statuses

ORDER = {
    "amount": 100000,
    "currency": "VND",
    "merchant_reference": "e2e-sg",
    "customer": {
        "email": "buyer@example.com",
        "full_name": "Nguyen Van A",
        "document": "012345678901",
    },
}
EXAMPLE = Path(__file__).resolve().parents[2] / "events/smartglocal/webhook-payment-finished.json"


def create(runtime: Runtime, **overrides: Any) -> dict[str, Any]:
    payment = created(runtime, "/v1/smartglocal/payments", {**ORDER, **overrides})
    assert payment["status"] == "pending"
    return payment


def held(runtime: Runtime, reference: str) -> dict[str, Any]:
    """A manual payment, once it waits in requires_confirmation."""
    payment = create(runtime, confirmation="manual", merchant_reference=reference)
    runtime.wait_for_status(payment["id"], "requires_confirmation")
    return payment


def action(runtime: Runtime, payment: dict[str, Any], name: str) -> httpx.Response:
    with runtime.client() as client:
        return client.post(f"/v1/payments/{payment['id']}/{name}")


def qr(payment: dict[str, Any], outcome: str) -> dict[str, Any]:
    """Pay (or fail) on the sandbox's QR page, as a script would."""
    answer = httpx.post(f"{payment['next_action']['url']}/{outcome}", timeout=30)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def sandbox_url(payment: dict[str, Any]) -> str:
    return str(payment["next_action"]["url"]).split("/qr/")[0]


def test_auto_confirmation_happy_path(runtime: Runtime) -> None:
    payment = create(runtime)
    ready = runtime.wait_for_status(payment["id"], "requires_action")
    assert ready["next_action"]["type"] == "redirect"
    page = httpx.get(ready["next_action"]["url"], timeout=10)
    assert page.status_code == 200 and "Pay" in page.text
    assert qr(ready, "pay")["delivered"] is True
    final = runtime.wait_for_status(payment["id"], "succeeded")
    assert final["amount_received"] == 100000 and final["failure"] is None
    assert statuses(runtime, payment["id"], 4) == [
        "created",
        "pending",
        "requires_action",
        "succeeded",
    ]


def test_manual_confirmation(runtime: Runtime) -> None:
    payment = held(runtime, "e2e-sg-manual")
    confirmed = action(runtime, payment, "confirm")
    assert confirmed.status_code == 200, confirmed.text
    ready = runtime.wait_for_status(payment["id"], "requires_action")
    qr(ready, "pay")
    runtime.wait_for_status(payment["id"], "succeeded")
    assert statuses(runtime, payment["id"], 5) == [
        "created",
        "pending",
        "requires_confirmation",
        "requires_action",
        "succeeded",
    ]


def test_manual_cancel(runtime: Runtime) -> None:
    payment = held(runtime, "e2e-sg-cancel")
    cancelled = action(runtime, payment, "cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert action(runtime, payment, "confirm").status_code == 409
    assert statuses(runtime, payment["id"], 4) == [
        "created",
        "pending",
        "requires_confirmation",
        "cancelled",
    ]


def test_failed_payment(runtime: Runtime) -> None:
    payment = create(runtime, merchant_reference="e2e-sg-fail")
    ready = runtime.wait_for_status(payment["id"], "requires_action")
    assert qr(ready, "fail")["delivered"] is True
    final = runtime.wait_for_status(payment["id"], "failed")
    assert final["failure"]["provider_code"] == "payment_declined"
    assert statuses(runtime, payment["id"], 4)[-1] == "failed"


def test_redelivered_ready_to_confirm_confirms_once(runtime: Runtime) -> None:
    payment = create(runtime, merchant_reference="e2e-sg-redeliver")
    ready = runtime.wait_for_status(payment["id"], "requires_action")
    session_url = f"{sandbox_url(ready)}/_sandbox/sessions/{ready['provider_reference']}"
    for _ in range(2):
        again = httpx.post(f"{session_url}/resend", json={"type": "ready_to_confirm"}, timeout=30)
        assert again.status_code == 200 and again.json()["delivered"] is True
    assert httpx.get(session_url, timeout=10).json()["confirm_calls"] == 1
    assert statuses(runtime, payment["id"], 3) == ["created", "pending", "requires_action"]


def test_webhook_with_a_bad_signature_is_a_401_and_changes_nothing(runtime: Runtime) -> None:
    payment = create(runtime, confirmation="manual", merchant_reference="e2e-sg-badsign")
    before = runtime.wait_for_status(payment["id"], "requires_confirmation")
    body = EXAMPLE.read_bytes().replace(b'"ps_5666"', f'"{payment["provider_reference"]}"'.encode())
    for headers in ({"X-PARTNER-SIGN": "bm90IGEgc2lnbmF0dXJl"}, {}):
        answer = httpx.post(
            f"{runtime.api_url}/webhooks/smartglocal",
            content=body,
            headers={"content-type": "application/json", **headers},
        )
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "invalid_signature"
    after = runtime.wait_for_status(payment["id"], "requires_confirmation")
    assert after["version"] == before["version"]
    assert statuses(runtime, payment["id"], 3) == ["created", "pending", "requires_confirmation"]
