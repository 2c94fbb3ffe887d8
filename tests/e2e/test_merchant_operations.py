"""Merchant operations end to end over HTTP against the local runtime: a Monetix bank transfer
paid with another amount ends `needs_review`; its timeline shows the sandbox's callbacks; the
merchant's review ends it `succeeded` (accept) or `failed` (reject) with exactly one event;
the payment is found by its order reference. The operator routes are called as the local user
pool's operators (`Runtime.operator`), as the console calls them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from .conftest import Runtime, created, gate_events

CUSTOMER = {
    "id": "cust-ops",
    "email": "buyer@example.com",
    "ip_address": "198.51.100.47",
    "first_name": "An",
    "last_name": "Nguyen",
}


def paid_another_amount(runtime: Runtime) -> dict[str, Any]:
    """A bank transfer for 300,000 VND the customer paid 250,000 for (each its own customer:
    the Monetix sandbox joins one customer's equal amounts into a series)."""
    reference = f"ops-{uuid.uuid4().hex[:12]}"
    customer = {**CUSTOMER, "id": reference}
    body = {"method": "bank_transfer", "amount": 300_000, "merchant_reference": reference,
            "customer": customer}  # fmt: skip
    payment = created(runtime, "/v1/monetix/payments", body)
    runtime.wait_until(payment["id"], lambda p: p["next_action"] is not None)
    transfer = f"{runtime.sandbox_url('monetix')}/_sandbox/payments/{payment['id']}/transfer"
    answer = httpx.post(transfer, json={"amount": 250_000}, timeout=30)
    assert answer.status_code == 200, answer.text
    return runtime.wait_for_status(payment["id"], "needs_review")


def review(runtime: Runtime, payment_id: str, decision: str, note: str) -> httpx.Response:
    with runtime.operator("reviewer") as client:
        return client.post(
            f"/v1/payments/{payment_id}/review",
            json={"decision": decision, "note": note},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )


def timeline(runtime: Runtime, payment_id: str) -> list[dict[str, Any]]:
    with runtime.operator("viewer") as client:
        answer = client.get(f"/v1/payments/{payment_id}/timeline")
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


@pytest.mark.parametrize(("decision", "final"), [("accept", "succeeded"), ("reject", "failed")])
def test_a_changed_amount_is_reviewed_once_with_one_event(
    runtime: Runtime, decision: str, final: str
) -> None:
    payment = paid_another_amount(runtime)
    assert (payment["amount_received"], payment["failure"]["code"]) == (250_000, "amount_mismatch")
    gate = gate_events(runtime, payment["id"], "needs_review")

    story = timeline(runtime, payment["id"])
    callbacks = [e for e in story if e["type"] == "callback"]
    assert callbacks and all(c["provider"] == "monetix" for c in callbacks)
    changes = [(e["from"], e["to"]) for e in story if e["type"] == "status_change"]
    assert changes[-1] == ("requires_action", "needs_review")
    # The success callback that caused needs_review comes right before it, as received
    # (the local clock stands still in e2e: the order comes from the history, not the time).
    review_index = next(i for i, e in enumerate(story) if e.get("to") == "needs_review")
    cause = story[review_index - 1]
    assert (cause["type"], cause["outcome"]) == ("callback", "applied")
    assert str(cause["body"]["payment"]["sum"]["amount"]) == "250000"
    assert set(cause["body"]["signature"]) == {"*"}

    answer = review(runtime, payment["id"], decision, f"{decision}ed after checking Monetix")
    assert answer.status_code == 200, answer.text
    decided = answer.json()
    assert decided["status"] == final and decided["review"]["decision"] == decision
    events = runtime.events_for(payment["id"], len(gate) + 1)
    assert [e["status"] for e in events] == [*gate, final]  # exactly one more event
    assert (events[-1]["cause"], events[-1]["review"]["decision"]) == ("merchant_action", decision)
    last = timeline(runtime, payment["id"])[-1]
    assert (last["to"], last["cause"], last["note"]) == (
        final, "merchant_action", f"{decision}ed after checking Monetix",
    )  # fmt: skip

    again = review(runtime, payment["id"], decision, "a second decision")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"


def test_a_payment_is_found_by_its_order_reference(runtime: Runtime) -> None:
    payment = paid_another_amount(runtime)
    with runtime.operator("viewer") as client:
        found = client.get(
            "/v1/payments", params={"merchant_reference": payment["merchant_reference"]}
        )
        waiting = client.get("/v1/payments", params={"status": "needs_review", "limit": 100})
        bad = client.get("/v1/payments", params={"status": "paid"})
    assert found.status_code == 200
    assert [p["id"] for p in found.json()["data"]] == [payment["id"]]
    listed = found.json()["data"][0]
    # The same payment, less its client secret (the checkout's, never an operator's).
    assert listed.get("client_secret") is None
    assert listed == {**payment, "client_secret": None}
    assert payment["id"] in [p["id"] for p in waiting.json()["data"]]
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
