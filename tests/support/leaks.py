"""The leak check over one local runtime: after a card payment and a card payout of its own
(so it means something alone), no card number, card security code, provider secret or private
key appears in any DynamoDB item, the handlers' log, the runtime's output or the published
events, and every stored provider signature is erased. Nor does any unkeyed digest of a card
number (`card_derivatives`): with the 6+4 digits a payment keeps, an MD5, SHA-1 or SHA-256 of
the number, or of a request body that carried it, gives the number back by brute force in
seconds. Run by tests/e2e/test_nothing_leaked.py and, at the end of every session, on the
shared runtime after every flow that used it (tests/conftest.py);
tests/integration/test_no_card_derivatives.py runs the same search over moto."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

import boto3
import httpx

from tests.support.stored import decoded
from tools.launcher import ROOT, Runtime

PANS = ("4321432154325432", "9704123456789018", "4242424242424242", "4111111111111111")
PAN = "4111111111111111"
CARD = {"pan": PAN, "card_holder": "NGUYEN AN", "year": 2031, "month": 1}
CUSTOMER = {"id": "leak-check", "email": "a@example.com", "ip_address": "198.51.100.9"}


def card_flows(runtime: Runtime) -> list[dict[str, Any]]:
    """A card payment and a card payout, with references of their own (the check may run more
    than once on a runtime); the request bodies, as sent."""
    reference = f"leak-{uuid.uuid4().hex[:12]}"
    bodies: list[dict[str, Any]] = [
        {
            "method": "napas_atm", "amount": 100_000, "merchant_reference": f"{reference}-1",
            "customer": CUSTOMER, "bank_id": 136, "card": CARD,
        },
        {
            "method": "napas_atm", "amount": 100_000, "merchant_reference": f"{reference}-2",
            "customer": {"id": "leak-check", "ip_address": "198.51.100.9"}, "bank_id": 136,
            "region_id": 290, "card": CARD,
        },
    ]  # fmt: skip
    with runtime.client() as client:
        payment = client.post("/v1/ecommpay/payments", json=bodies[0])
        payout = client.post("/v1/ecommpay/payouts", json=bodies[1])
    assert payment.status_code == payout.status_code == 201, (payment.text, payout.text)
    sandbox = runtime.sandbox_url("ecommpay")
    url = f"{sandbox}/_sandbox/payments/{payout.json()['id']}/transfer"
    assert httpx.post(url, json={}, timeout=30).status_code == 200
    runtime.wait_for_status(payout.json()["id"], "succeeded")
    return bodies


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
    bodies = card_flows(runtime)
    items = [decoded(item) for item in stored_items(runtime)]
    webhooks = [i for i in items if i.get("entity", {}).get("S") == "webhook"]
    assert all("decoded" in w["body"] for w in webhooks), "a webhook body was not decoded"
    assert len(items) > 5 and webhooks
    texts = {
        "items": dumped(items),
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
    assert mask(PAN) in texts["items"]  # the 6+4 an attacker starts from
    assert_no_card_derivatives(texts, PAN, bodies)


# -- digests of card numbers -------------------------------------------------------------------

DIGESTS = ("md5", "sha1", "sha256", "sha512")
PREFIX = 20  # characters of a digest's text: a stored truncated digest is found too


def mask(pan: str) -> str:
    """The 6+4 form the gateway keeps (first 6, last 4 digits; nothing of a shorter number)."""
    if len(pan) < 13:
        return "*" * len(pan)
    return f"{pan[:6]}{'*' * (len(pan) - 10)}{pan[-4:]}"


def as_the_gateway_reads(body: dict[str, Any]) -> list[dict[str, Any]]:
    """`body` as each request model that accepts it dumps it (`model_dump(mode="json")`,
    defaults filled in): what a create hands Powertools' idempotency."""
    from paygate import api_requests

    models = (
        api_requests.EcommpayPaymentRequest,
        api_requests.MonetixPaymentRequest,
        api_requests.EcommpayPayoutRequest,
        api_requests.ClarificationRequest,
    )
    dumps = []
    for model in models:
        try:
            dumps.append(model.model_validate(body).model_dump(mode="json"))
        except ValueError:
            continue
    return dumps


def serialized(document: Any) -> set[str]:
    """The texts a JSON document is commonly hashed as: Powertools' own (`json.dumps` with
    `sort_keys=True`), Python's and compact ones, sorted or not."""
    return {
        json.dumps(document, sort_keys=sort, separators=separators, ensure_ascii=ascii_only)
        for sort in (True, False)
        for separators in (None, (",", ":"))
        for ascii_only in (True, False)
    }


def card_derivatives(pan: str, bodies: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Needle → what it is: the number, and the MD5/SHA-1/SHA-256/SHA-512 (hex, base64,
    base64url; their first `PREFIX` characters) of the number and of every request body that
    carried it (as sent and as the gateway reads it, in every common serialization). Hex
    needles are lower case: search them in lower-cased text."""
    texts = {pan: "the card number"}
    for index, body in enumerate(bodies):
        for document in (body, *as_the_gateway_reads(body)):
            texts.update({text: f"request body {index + 1}" for text in serialized(document)})
    needles = {pan: "the card number"}
    for text, what in texts.items():
        if pan not in text:
            continue
        for algorithm in DIGESTS:
            digest = hashlib.new(algorithm, text.encode()).digest()
            forms = {
                "hex": digest.hex(),
                "base64": base64.b64encode(digest).decode(),
                "base64url": base64.urlsafe_b64encode(digest).decode(),
            }
            for form, value in forms.items():
                needles[value[:PREFIX]] = f"the {algorithm} ({form}) of {what}"
    return needles


def dumped(items: list[dict[str, Any]]) -> str:
    """Items as text; binary attributes as hex and base64 (where a digest would show)."""

    def text(value: Any) -> Any:
        if isinstance(value, (bytes, bytearray)):
            return f"{bytes(value).hex()} {base64.b64encode(value).decode()}"
        raise TypeError(type(value))

    return json.dumps(items, default=text)


def assert_no_card_derivatives(
    texts: dict[str, str], pan: str, bodies: Iterable[dict[str, Any]]
) -> None:
    """Fail if any text holds the card number or an unkeyed digest of it (`card_derivatives`),
    naming what was found and where."""
    bodies = list(bodies)
    assert any(pan in json.dumps(body) for body in bodies), "no body carried the card number"
    needles = card_derivatives(pan, bodies)
    found = []
    for where, text in texts.items():
        lowered = text.lower()
        for needle, what in needles.items():
            haystack = lowered if all(c in "0123456789abcdef" for c in needle) else text
            if needle in haystack:
                found.append(f"{what} is in the {where} ({needle}...)")
    assert not found, (
        f"with the 6+4 digits kept ({mask(pan)}) the card number is found by brute force from: "
        + "; ".join(found)
    )
