"""Helpers for the ecommpay/Monetix integration tests: create through the handlers, sign and
replay callbacks (the docs' examples or the sandbox's), read what was stored."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from local.aws.provision import Provisioned
from local.sandboxes.platform import PlatformSandbox
from paygate.domain import Kind, new_payment_id, utcnow
from paygate.providers.platform import signing

from .conftest import DEV_SECRETS, Api

JSON = {"content-type": "application/json"}
EVENTS = Path(__file__).resolve().parents[2] / "events"
SECRETS = {
    provider: DEV_SECRETS[f"{provider.capitalize()}Secret"]["secret_key"]
    for provider in ("ecommpay", "monetix")
}
CUSTOMER = {
    "id": "cust-7",
    "email": "buyer@example.com",
    "phone": "84438336996",
    "ip_address": "198.51.100.47",
    "first_name": "An",
    "last_name": "Nguyen",
}
ATM_ORDER: dict[str, Any] = {
    "method": "napas_atm",
    "amount": 100_000,
    "merchant_reference": "order-atm-1",
    "customer": CUSTOMER,
    "bank_id": 135,
    "return_url": "https://merchant.example/back",
}
WALLET_ORDER: dict[str, Any] = {**ATM_ORDER, "method": "nganluong_wallet", "bank_id": None}
TRANSFER_ORDER: dict[str, Any] = {
    "method": "bank_transfer",
    "amount": 300_000,
    "merchant_reference": "order-bt-1",
    "customer": CUSTOMER,
}


def create(api: Api, provider: str, order: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = {k: v for k, v in {**order, **overrides}.items() if v is not None}
    return api.answer(201, "POST", f"/v1/{provider}/payments", body)


def get(api: Api, payment_id: str) -> dict[str, Any]:
    return api.read(f"/v1/payments/{payment_id}")


def signed_body(document: dict[str, Any], provider: str, secret: str | None = None) -> bytes:
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    signature = signing.sign(unsigned, secret or SECRETS[provider])
    return json.dumps({**unsigned, "signature": signature}).encode()


def deliver(api: Api, provider: str, body: bytes | dict[str, Any]) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api.call("POST", f"/webhooks/{provider}", raw, JSON)


def deliver_sandbox_callbacks(
    api: Api, provider: str, sandbox: PlatformSandbox, payment_id: str, start: int = 0
) -> int:
    """Replay the sandbox's callbacks for the payment from index `start`, as signed by it;
    returns how many there are now."""
    callbacks = sandbox.callbacks(payment_id)
    for callback in callbacks[start:]:
        response = deliver(api, provider, json.dumps(callback).encode())
        assert response["statusCode"] == 200, response
    return len(callbacks)


def doc_example(relative: str, payment_id: str | None = None) -> dict[str, Any]:
    """A docs callback example as the platform would send it to us: about one of our payments
    (`payment_id`, else a new id of ours: the docs' ids are the docs' merchants') and dated
    now (the docs' 2019 dates are older than any callback the gateway accepts)."""
    document: dict[str, Any] = json.loads((EVENTS / relative).read_text(encoding="utf-8"))
    kind = Kind.PAYOUT if document["payment"].get("type") == "payout" else Kind.PAYMENT
    document["payment"]["id"] = payment_id or new_payment_id(kind)
    return dated(document)


def dated(document: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """`document` with every platform date (payment, operation) set to `at` (default now)."""
    stamp = (at or utcnow()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    for part in ("payment", "operation"):
        for key in ("date", "created_date"):
            if key in (document.get(part) or {}):
                document[part][key] = stamp
    return document


@contextmanager
def confirmation(handlers: Callable[[str], ModuleType], on: bool) -> Iterator[None]:
    """Both platform webhooks with confirmation by status query turned `on` or off (their
    settings are read once per session, at import)."""
    contracts = [handlers(f"{p}_webhook").gateway.webhook_contract for p in ("ecommpay", "monetix")]
    before = [contract.checks for contract in contracts]
    for contract in contracts:
        contract.checks = replace(contract.checks, confirm=on)
    try:
        yield
    finally:
        for contract, checks in zip(contracts, before, strict=True):
            contract.checks = checks


def items(aws: Provisioned, entity: str) -> list[dict[str, Any]]:
    found = boto3.client("dynamodb").scan(TableName=aws.refs["PaymentsTable"])["Items"]
    return [i for i in found if i["entity"]["S"] == entity]
