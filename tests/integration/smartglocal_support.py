"""Helpers for the Smart Glocal integration tests: create through the handler, replay the
sandbox's (or the docs') webhooks signed, read the stored state."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from local.aws.provision import Provisioned
from local.sandboxes.smartglocal import SmartglocalSandbox
from paygate import clock
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


def signed_example(
    name: str, session_id: str, key: str = SMARTGLOCAL_TEST_KEY, at: datetime | None = None
) -> bytes:
    """A documented example from events/smartglocal, aimed at `session_id` and sent now (or
    `at`): its times move together so that the signed `session.updated_at` is that moment, as
    Smart Glocal's own webhook would be. Nothing else changes."""
    text = (EVENTS / name).read_text(encoding="utf-8").strip()
    return restamped(text.replace('"ps_5666"', f'"{session_id}"'), at).encode()


TIME = re.compile(r'"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z)"')


def restamped(text: str, at: datetime | None = None) -> str:
    """`text` (a webhook) with every time shifted by one amount: `session.updated_at` becomes
    `at` (default: the gateway's clock now)."""
    updated = datetime.fromisoformat(json.loads(text)["session"]["updated_at"])
    shift = (at or clock.now()) - updated

    def moved(match: re.Match[str]) -> str:
        when = datetime.fromisoformat(match.group(1)) + shift
        return f'"{when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}"'

    return TIME.sub(moved, text)


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
