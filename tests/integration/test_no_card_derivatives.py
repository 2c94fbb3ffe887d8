"""No card number, and no unkeyed digest of one, in anything stored, logged or published: a
card payment (ATM channel 2), a card clarification and a card payout through the real handlers
(moto, the platform sandbox), an idempotent replay and a key reused with another card; then
every item of every table (the idempotency table too), the handlers' output and every
published event are searched for the number and for the MD5/SHA-1/SHA-256/SHA-512 of it and
of every body that carried it, as sent and as the gateway hands it to Powertools
(tests/support/leaks.py). The 6+4 form stays stored: it is what a brute force starts from."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from types import ModuleType
from typing import Any

import boto3
import httpx
import pytest

from local.aws.apigw import FakeLambdaContext
from local.aws.provision import Provisioned
from local.sandboxes.platform import PlatformSandbox
from paygate.providers.platform.banks import LiveBanks
from tests.support.leaks import assert_no_card_derivatives, dumped, mask
from tests.support.stored import decoded

from .conftest import Api, body_of
from .platform_support import ATM_ORDER, JSON, deliver_sandbox_callbacks, get
from .test_publish_status import received, stream_records, subscribe

PAN = "4321432154325432"
CARD = {"pan": PAN, "card_holder": "NGUYEN AN", "year": 2030, "month": 11}
PAYOUT = {
    "method": "napas_atm",
    "amount": 150_000,
    "merchant_reference": "leak-payout-1",
    "customer": {"id": "payee-1", "ip_address": "198.51.100.47"},
    "bank_id": 136,
    "region_id": 290,
    "card": CARD,
}


@pytest.fixture
def channel_2(
    handlers: Callable[[str], ModuleType],
    ecommpay_sandbox: PlatformSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """The ecommpay create handler and the sandbox as an ATM channel-2 project (card data)."""
    gateway = handlers("ecommpay_create_payment").gateway
    monkeypatch.setattr(gateway, "config", replace(gateway.config, atm_channel=2))
    monkeypatch.setattr(gateway, "live_banks", LiveBanks(gateway._live_bank_list))
    before = httpx.post(f"{ecommpay_sandbox.base_url}/_sandbox/settings", json={}).json()
    ecommpay_sandbox.settings({"atm_channel": 2})
    yield
    httpx.post(f"{ecommpay_sandbox.base_url}/_sandbox/settings", json=before)


def created(api: Api, path: str, body: dict[str, Any], key: str, status: int = 201) -> Any:
    headers = {**JSON, "Idempotency-Key": key}
    response = api.call("POST", path, body, headers)
    assert response["statusCode"] == status, response
    return body_of(response)


def test_no_card_number_or_digest_of_one_is_stored_logged_or_published(
    api: Api,
    aws: Provisioned,
    handlers: Callable[[str], ModuleType],
    ecommpay_sandbox: PlatformSandbox,
    channel_2: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    queue = subscribe(aws)
    sandbox = ecommpay_sandbox.base_url
    paid = {**ATM_ORDER, "merchant_reference": "leak-pay-1", "card": CARD}
    payment = created(api, "/v1/ecommpay/payments", paid, "key-pay-1")
    deliver_sandbox_callbacks(api, "ecommpay", ecommpay_sandbox, payment["id"])
    again = created(api, "/v1/ecommpay/payments", paid, "key-pay-1", status=200)  # replayed
    assert again["id"] == payment["id"]
    other_card = {**paid, "card": {**CARD, "pan": "9704123456789018"}}
    reused = created(api, "/v1/ecommpay/payments", other_card, "key-pay-1", status=422)
    assert reused["error"]["code"] == "idempotency_key_reused"

    asked = {**ATM_ORDER, "merchant_reference": "leak-pay-2"}  # bank 135 asks for the card
    waiting = created(api, "/v1/ecommpay/payments", asked, "key-pay-2")
    seen = deliver_sandbox_callbacks(api, "ecommpay", ecommpay_sandbox, waiting["id"])
    assert get(api, waiting["id"])["next_action"]["type"] == "clarification"
    clarification = {"fields": {f"card.{k}": v for k, v in CARD.items()}}
    path = f"/v1/payments/{waiting['id']}/clarification"
    assert api.call("POST", path, clarification, JSON)["statusCode"] == 200
    deliver_sandbox_callbacks(api, "ecommpay", ecommpay_sandbox, waiting["id"], start=seen)

    payout = created(api, "/v1/ecommpay/payouts", PAYOUT, "key-payout-1")
    assert httpx.post(f"{sandbox}/_sandbox/payments/{payout['id']}/transfer", json={}).is_success
    deliver_sandbox_callbacks(api, "ecommpay", ecommpay_sandbox, payout["id"])
    assert api.read(f"/v1/payouts/{payout['id']}")["status"] == "succeeded"

    publish = handlers("publish_status")
    result = publish.lambda_handler({"Records": stream_records(aws)}, FakeLambdaContext("p"))
    assert result == {"batchItemFailures": []}
    events = received(queue)
    dynamodb = boto3.client("dynamodb")
    tables = dynamodb.list_tables()["TableNames"]
    assert aws.refs["IdempotencyTable"] in tables
    items = {
        table: [decoded(item) for item in dynamodb.scan(TableName=table)["Items"]]
        for table in tables
    }
    assert len(items[aws.refs["IdempotencyTable"]]) == 3  # one per key: the replays only read
    output = capsys.readouterr()
    texts = {
        **{f"table {table}": dumped(found) for table, found in items.items()},
        "handlers' output": output.out + output.err,
        "events": json.dumps(events),
    }
    assert len(events) >= 6 and "succeeded" in texts["events"]
    assert mask(PAN) in texts[f"table {aws.refs['PaymentsTable']}"]  # where an attack starts
    assert_no_card_derivatives(texts, PAN, [paid, clarification, PAYOUT])
