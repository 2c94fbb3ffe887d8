"""Nothing lost, nothing doubled under concurrency and reordering: 200 Paypro notifies for 20
payments (duplicates included) delivered concurrently in shuffled order through the local
runtime; a late intermediate notify after the final one."""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from paygate.domain import PaymentStatus
from paygate.providers.paypro import signing

from .conftest import ROOT, Runtime

SECRET = json.loads((ROOT / "local/aws/dev_secrets.json").read_text())["PayproSecret"]["app_secret"]
PAYMENTS = 20
PER_PAYMENT = {"0015": 4, "0000": 6}  # 10 notifies each: 200 in all


def notify(payment: dict[str, Any], status: str, signed_at: str) -> dict[str, str]:
    """A Paypro notify for `payment`, signed at `signed_at` (ms, the runtime's clock)."""
    fields = {
        "status": status,
        "message": "success" if status == "0000" else "processing",
        "platFormTradeNo": payment["provider_reference"],
        "tradeNo": payment["id"],
        "amount": str(payment["amount"]),
        "timestamp": signed_at,
    }
    return {**fields, "sign": signing.sign(fields, SECRET)}


def create(runtime: Runtime, reference: str) -> dict[str, Any]:
    body = {"amount": 50_000, "currency": "VND", "merchant_reference": reference}
    with runtime.client() as client:
        payment: dict[str, Any] = client.post("/v1/paypro/payments", json=body).json()
    assert payment["status"] == "requires_action"
    return payment


@pytest.mark.early
def test_200_shuffled_concurrent_notifies_for_20_payments(runtime: Runtime) -> None:
    payments = [create(runtime, f"concurrent-{n}") for n in range(PAYMENTS)]
    signed_at = str(int(runtime.now().timestamp() * 1000))
    deliveries = [
        notify(payment, status, signed_at)
        for payment in payments
        for status, copies in PER_PAYMENT.items()
        for _ in range(copies)
    ]
    random.Random(20261123).shuffle(deliveries)
    with httpx.Client(base_url=runtime.api_url, timeout=30) as client:

        def deliver(body: dict[str, str]) -> tuple[int, str]:
            answer = client.post("/webhooks/paypro", json=body)
            return answer.status_code, answer.text

        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(deliver, deliveries))
    assert answers == [(200, "OK")] * len(deliveries)
    rank = {status.value: status.rank for status in PaymentStatus}
    for payment in payments:
        final = runtime.wait_for_status(payment["id"], "succeeded")  # as in-order delivery
        events = runtime.events_for(payment["id"], final["version"], timeout=30)
        statuses = [event["status"] for event in events]
        assert len(events) == final["version"], statuses  # one event per committed change
        assert len({event["event_id"] for event in events}) == len(events)
        assert [rank[s] for s in statuses] == sorted(rank[s] for s in statuses)
        assert len(set(statuses)) == len(statuses)  # no status published twice
        assert statuses[0] == "created" and statuses[-1] == "succeeded"


def test_a_late_intermediate_notify_changes_nothing(runtime: Runtime) -> None:
    payment = create(runtime, "late-notify")
    signed_at = str(int(runtime.now().timestamp() * 1000))
    with httpx.Client(base_url=runtime.api_url, timeout=30) as client:
        success, late = notify(payment, "0000", signed_at), notify(payment, "0015", signed_at)
        assert client.post("/webhooks/paypro", json=success).text == "OK"
        final = runtime.wait_for_status(payment["id"], "succeeded")
        assert client.post("/webhooks/paypro", json=late).text == "OK"
    time.sleep(1)
    with runtime.client() as merchant:
        after = merchant.get(f"/v1/payments/{payment['id']}").json()
    assert (after["status"], after["version"]) == ("succeeded", final["version"])
    statuses = [e["status"] for e in runtime.events_for(payment["id"], 3)]
    assert statuses == ["created", "requires_action", "succeeded"]
