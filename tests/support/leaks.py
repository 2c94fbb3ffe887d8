"""The leak check over one local runtime: after a card payment and a card payout of its own
(so it means something alone), no card number, card security code, provider secret or private
key appears in any DynamoDB item, the handlers' log, the runtime's output or the published
events, and every stored provider signature is erased. Run by
tests/e2e/test_nothing_leaked.py and, at the end of every session, on the shared runtime after
every flow that used it (tests/conftest.py)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import httpx

from tests.support.stored import decoded
from tools.launcher import ROOT, Runtime

PANS = ("4321432154325432", "9704123456789018", "4242424242424242", "4111111111111111")
CARD = {"pan": "4111111111111111", "card_holder": "NGUYEN AN", "year": 2031, "month": 1}
CUSTOMER = {"id": "leak-check", "email": "a@example.com", "ip_address": "198.51.100.9"}


def card_flows(runtime: Runtime) -> None:
    """A card payment and a card payout, with references of their own (the check may run more
    than once on a runtime)."""
    reference = f"leak-{uuid.uuid4().hex[:12]}"
    with runtime.client() as client:
        payment = client.post("/v1/ecommpay/payments", json={
            "method": "napas_atm", "amount": 100_000, "merchant_reference": f"{reference}-1",
            "customer": CUSTOMER, "bank_id": 136, "card": CARD,
        })  # fmt: skip
        payout = client.post("/v1/ecommpay/payouts", json={
            "method": "napas_atm", "amount": 100_000, "merchant_reference": f"{reference}-2",
            "customer": {"id": "leak-check", "ip_address": "198.51.100.9"}, "bank_id": 136,
            "region_id": 290, "card": CARD,
        })  # fmt: skip
    assert payment.status_code == payout.status_code == 201, (payment.text, payout.text)
    sandbox = runtime.sandbox_url("ecommpay")
    url = f"{sandbox}/_sandbox/payments/{payout.json()['id']}/transfer"
    assert httpx.post(url, json={}, timeout=30).status_code == 200
    runtime.wait_for_status(payout.json()["id"], "succeeded")


def secrets() -> list[str]:
    dev = json.loads((ROOT / "local/aws/dev_secrets.json").read_text())
    values = [v for secret in dev.values() for v in secret.values() if isinstance(v, str)]
    return [v for v in values if len(v) >= 8 and v != "local-project"]


def stored_items(runtime: Runtime) -> list[dict[str, Any]]:
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=runtime.moto_url, region_name="ap-southeast-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip
    items: list[dict[str, Any]] = []
    for table in dynamodb.list_tables()["TableNames"]:
        pages = dynamodb.get_paginator("scan").paginate(TableName=table)
        items += [item for page in pages for item in page["Items"]]
    return items


def signature_values(document: Any) -> list[Any]:
    if isinstance(document, dict):
        found = [v for k, v in document.items() if k in ("signature", "sign")]
        return found + [x for v in document.values() for x in signature_values(v)]
    if isinstance(document, list):
        return [x for v in document for x in signature_values(v)]
    return []


def assert_nothing_leaked(runtime: Runtime) -> None:
    card_flows(runtime)
    items = [decoded(item) for item in stored_items(runtime)]
    webhooks = [i for i in items if i.get("entity", {}).get("S") == "webhook"]
    assert all("decoded" in w["body"] for w in webhooks), "a webhook body was not decoded"
    assert len(items) > 5 and webhooks
    texts = {
        "items": json.dumps(items),
        "logs": (runtime.state_dir / "lambda.log").read_text(errors="replace"),
        "runtime output": (runtime.state_dir / "runtime.out").read_text(errors="replace"),
        "events": (runtime.state_dir / "events.jsonl").read_text(errors="replace"),
    }
    for where, text in texts.items():
        for pan in PANS:
            assert pan not in text, f"a card number is in the {where}"
        masked = text.replace('"cvv": {"S": "*****"}', "").replace('"cvv": "*****"', "")
        assert '"cvv"' not in masked, f"a card security code is in the {where}"
        for secret in secrets():
            assert secret not in text, f"a provider secret is in the {where}"
        assert "PRIVATE KEY" not in text, f"a private key is in the {where}"
    for webhook in webhooks:
        for value in signature_values(webhook["body"]["decoded"]):
            assert value == "*****", webhook
