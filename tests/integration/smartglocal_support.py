"""Helpers for the Smart Glocal integration tests: create through the handler, replay the
sandbox's (or the docs') webhooks signed, read the stored state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from local.aws.provision import Provisioned
from local.sandboxes.smartglocal import SmartglocalSandbox
from paygate.providers.smartglocal import signing

from .conftest import SMARTGLOCAL_TEST_KEY, Api

JSON = {"content-type": "application/json"}
EVENTS = Path(__file__).resolve().parents[2] / "events/smartglocal"
CUSTOMER = {
    "id": "cust-42",
    "email": "buyer@example.com",
    "full_name": "Nguyen Van A",
    "document": "012345678901",
}
ORDER: dict[str, Any] = {
    "amount": 100000,
    "currency": "VND",
    "merchant_reference": "order-sg-1",
    "customer": CUSTOMER,
    "return_url": "https://merchant.example/back",
}


def create(api: Api, **overrides: Any) -> dict[str, Any]:
    return api.answer(201, "POST", "/v1/smartglocal/payments", {**ORDER, **overrides})


def get(api: Api, payment_id: str) -> dict[str, Any]:
    return api.read(f"/v1/payments/{payment_id}")


def deliver(api: Api, body: bytes, sign: str | None) -> dict[str, Any]:
    headers = dict(JSON)
    if sign is not None:
        headers["X-PARTNER-SIGN"] = sign
    return api.call("POST", "/webhooks/smartglocal", body, headers)


def signed_example(name: str, session_id: str, key: str = SMARTGLOCAL_TEST_KEY) -> bytes:
    """A documented example from events/smartglocal, aimed at `session_id` (the only change)."""
    text = (EVENTS / name).read_text(encoding="utf-8").strip()
    return text.replace('"ps_5666"', f'"{session_id}"').encode()


def replay_example(api: Api, name: str, session_id: str) -> dict[str, Any]:
    body = signed_example(name, session_id)
    return deliver(api, body, signing.sign(body, SMARTGLOCAL_TEST_KEY))


def sandbox_webhooks(sandbox: SmartglocalSandbox, session_id: str) -> list[tuple[str, bytes, str]]:
    return sandbox.webhooks(session_id)


def deliver_next(
    api: Api, sandbox: SmartglocalSandbox, session_id: str, webhook_type: str
) -> dict[str, Any]:
    """Deliver the sandbox's latest webhook of `webhook_type` for the session (bytes as signed)."""
    found = [(b, s) for t, b, s in sandbox.webhooks(session_id) if t == webhook_type]
    assert found, f"the sandbox sent no {webhook_type} for {session_id}"
    body, sign = found[-1]
    return deliver(api, body, sign)


def webhook_items(aws: Provisioned) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=aws.refs["PaymentsTable"])["Items"]
    return [i for i in items if i["entity"]["S"] == "webhook"]
