"""Payouts end to end through the local runtime: NAPAS ATM card and Nganluong wallet payouts
(ecommpay) and bank payouts (Paypro), success and decline, one `payout.status_changed` event
per status change; and a scan of everything the run left behind for the card number."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import httpx
import pytest

from paygate.events import StatusChanged
from tests.support.stored import searchable

from .conftest import Runtime, created

PAN = "9704123456789018"  # a NAPAS-style test number used only here
ATM = {
    "method": "napas_atm",
    "amount": 150_000,
    "merchant_reference": "e2e-payout-atm",
    "customer": {"id": "payee-1", "ip_address": "198.51.100.47"},
    "bank_id": 136,
    "region_id": 290,
    "card": {"pan": PAN, "card_holder": "NGUYEN AN", "year": 2030, "month": 12},
}
WALLET = {
    "method": "nganluong_wallet",
    "amount": 100_000,
    "merchant_reference": "e2e-payout-nl",
    "customer": {"id": "payee-2", "ip_address": "198.51.100.47"},
    "account_number": "payee@example.com",
}
PAYPRO = {
    "amount": 60_000,
    "merchant_reference": "e2e-payout-pp",
    "account_name": "NGUYEN VAN A",
    "bank_name": "ACB",
    "bank_number": "0123456789",
}


def create(runtime: Runtime, provider: str, body: dict[str, Any]) -> dict[str, Any]:
    # one payout per merchant_reference: each payout here is its own order
    order = {**body, "merchant_reference": f"{body['merchant_reference']}-{uuid.uuid4().hex[:8]}"}
    payout = created(runtime, f"/v1/{provider}/payouts", order)
    assert payout["status"] == "processing"
    return payout


def finish(runtime: Runtime, provider: str, payout: dict[str, Any], success: bool) -> None:
    """The provider's side completes the payout (its sandbox hook), then calls us back."""
    if provider == "paypro":
        url = f"{runtime.paypro_url}/_sandbox/payouts/{payout['id']}/"
        url += "succeed" if success else "fail"
    else:
        url = f"{runtime.sandbox_url(provider)}/_sandbox/payments/{payout['id']}/"
        url += "transfer" if success else "decline"
    assert httpx.post(url, json={}, timeout=30).status_code == 200


def events(runtime: Runtime, payout_id: str, count: int) -> list[dict[str, Any]]:
    found = runtime.events_for(payout_id, count)
    for event in found:
        StatusChanged.model_validate(event)
        assert event["type"] == "payout.status_changed"
    return found


@pytest.mark.parametrize(
    ("provider", "body", "success", "status", "code"),
    [
        ("ecommpay", ATM, True, "succeeded", None),
        ("ecommpay", ATM, False, "failed", "3104"),
        ("ecommpay", WALLET, True, "succeeded", None),
        ("ecommpay", WALLET, False, "failed", "3104"),
        ("paypro", PAYPRO, True, "succeeded", None),
        ("paypro", PAYPRO, False, "failed", "00029"),
    ],
)
def test_payout_success_and_decline(
    runtime: Runtime,
    provider: str,
    body: dict[str, Any],
    success: bool,
    status: str,
    code: str | None,
) -> None:
    payout = create(runtime, provider, body)
    finish(runtime, provider, payout, success)
    final = runtime.wait_for_status(payout["id"], status)
    assert (final["failure"] or {}).get("provider_code") == code
    statuses = [e["status"] for e in events(runtime, payout["id"], 3)]
    assert statuses == ["created", "processing", status]


def test_the_card_number_appears_nowhere_after_a_full_atm_payout(runtime: Runtime) -> None:
    answers = [json.dumps(create(runtime, "ecommpay", ATM))]
    payout_id = json.loads(answers[0])["id"]
    finish(runtime, "ecommpay", {"id": payout_id}, True)
    final = runtime.wait_for_status(payout_id, "succeeded")
    answers.append(json.dumps(final))
    with runtime.operator("viewer") as client:  # payout reads are the operators'
        answers.append(client.get(f"/v1/payouts/{payout_id}").text)
    published = json.dumps(events(runtime, payout_id, 3))
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=runtime.moto_url,
        region_name="ap-southeast-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    items: list[dict[str, Any]] = []
    for table in dynamodb.list_tables()["TableNames"]:
        items += dynamodb.scan(TableName=table)["Items"]
    stored = searchable(items)
    logs = "".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in runtime.state_dir.glob("*")
        if path.suffix in (".log", ".out", ".jsonl")
    )
    assert payout_id in stored and payout_id in logs and payout_id in published
    assert "970412******9018" in stored  # the masked form is kept
    for where, text in {"items": stored, "logs": logs, "events": published}.items():
        assert PAN not in text, f"the card number is in the {where}"
    for answer in answers:
        assert PAN not in answer
