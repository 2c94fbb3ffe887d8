"""POST /webhooks/ecommpay and /webhooks/monetix: every callback example of the three provider
docs (events/, listed in events/platform-callbacks.json) signed with the dev secret and replayed
through the real handler and moto; signatures, duplicates, unknown payments, bad bodies.

The payments here are seeded in our table only (the sandbox never saw them), so confirmation by
status query is off in this module: tests/integration/test_callback_checks.py covers it."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest

from local.aws.provision import Provisioned
from paygate.domain import Kind, Method, Payment, Provider
from paygate.repository import PaymentRepository
from tests.conftest import metric_names

from .conftest import DEV_SECRETS, Api, body_of
from .platform_support import (
    EVENTS,
    confirmation,
    deliver,
    doc_example,
    get,
    items,
    signed_body,
)


@pytest.fixture(autouse=True)
def _unconfirmed(handlers: Callable[[str], ModuleType]) -> Iterator[None]:
    with confirmation(handlers, on=False):
        yield


MANIFEST = json.loads((EVENTS / "platform-callbacks.json").read_text(encoding="utf-8"))
METHODS = {
    "ATM Vietnam banking": Method.NAPAS_ATM,
    "Nganluong wallet": Method.NGANLUONG_WALLET,
    "Vietnam bank transfer": Method.BANK_TRANSFER,
}


def get_payout(api: Api, payout_id: str) -> dict[str, Any]:
    payout: dict[str, Any] = body_of(api.call("GET", f"/v1/payouts/{payout_id}"))
    return payout


def seed(aws: Provisioned, provider: str, document: dict[str, Any], **fields: Any) -> Payment:
    """The payment a callback example is about, as our create would have left it."""
    payment_doc = document["payment"]
    amount = int((payment_doc.get("sum") or {}).get("amount") or 0) or 2_000
    payment = Payment(
        id=payment_doc["id"],
        kind=Kind.PAYOUT if payment_doc.get("type") == "payout" else Kind.PAYMENT,
        provider=Provider(provider),
        method=METHODS[payment_doc["method"]],
        amount=amount,
        merchant_reference="doc-example",
        **fields,
    )
    PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=1)).create(payment)
    return payment


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_every_documented_callback_replays_to_its_status(
    api: Api, aws: Provisioned, entry: dict[str, Any]
) -> None:
    document = doc_example(entry["file"])
    payment = seed(aws, entry["provider"], document)
    response = deliver(api, entry["provider"], signed_body(document, entry["provider"]))
    assert response["statusCode"] == 200, response
    assert body_of(response) == {"status": "ok"}
    read = get if payment.kind is Kind.PAYMENT else get_payout
    stored = read(api, payment.id)
    assert stored["status"] == entry["expected_status"], stored
    provider_code = (stored.get("failure") or {}).get("provider_code")
    assert provider_code == entry.get("expected_failure_provider_code"), stored
    action = (stored.get("next_action") or {}).get("type")
    assert action == entry.get("expected_next_action"), stored
    again = deliver(api, entry["provider"], signed_body(document, entry["provider"]))
    assert again["statusCode"] == 200 and read(api, payment.id)["version"] == stored["version"]
    assert len(items(aws, "webhook")) == 1  # the redelivery was recognised, not stored twice


def test_manifest_covers_every_example_file() -> None:
    files = {entry["file"] for entry in MANIFEST}
    stored = {
        f"{folder}/{path.name}"
        for folder in ("ecommpay", "monetix")
        for path in (EVENTS / folder).glob("*.json")
    }
    assert files == stored
    assert len(MANIFEST) >= 14


def test_success_for_another_amount_needs_review(api: Api, aws: Provisioned) -> None:
    document = doc_example("monetix/bank-transfer-gate-ch1-purchase-success.json")
    payment = seed(aws, "monetix", document)
    document["payment"]["sum"]["amount"] = 250_000  # the customer changed the amount
    response = deliver(api, "monetix", signed_body(document, "monetix"))
    assert response["statusCode"] == 200
    stored = get(api, payment.id)
    assert (stored["status"], stored["amount_received"]) == ("needs_review", 250_000)
    assert stored["failure"]["code"] == "amount_mismatch"


@pytest.mark.parametrize("provider", ["ecommpay", "monetix"])
@pytest.mark.parametrize("signature", ["bad", None, "other-secret"])
def test_bad_or_missing_signature_is_401_and_changes_nothing(
    api: Api, aws: Provisioned, provider: str, signature: str | None
) -> None:
    example = (
        "ecommpay/atm-gate-purchase-success.json"
        if provider == "ecommpay"
        else ("monetix/bank-transfer-gate-ch1-purchase-success.json")
    )
    document = doc_example(example)
    payment = seed(aws, provider, document)
    if signature == "other-secret":
        body = signed_body(document, provider, secret="not-the-project-secret")
    else:
        unsigned = {k: v for k, v in document.items() if k != "signature"}
        body = json.dumps(unsigned | ({"signature": signature} if signature else {})).encode()
    response = deliver(api, provider, body)
    assert response["statusCode"] == 401
    assert body_of(response)["error"] == {
        "code": "invalid_signature",
        "message": "missing or invalid signature",
        "field": "signature",
    }
    assert get(api, payment.id)["status"] == "created"
    assert items(aws, "webhook") == []


def test_signature_metric_and_rotation(
    api: Api, aws: Provisioned, capsys: pytest.CaptureFixture[str]
) -> None:
    document = doc_example("ecommpay/atm-gate-purchase-success.json")
    seed(aws, "ecommpay", document)
    deliver(api, "ecommpay", signed_body(document, "ecommpay", secret="wrong"))
    assert "WebhookSignatureInvalid" in metric_names(capsys.readouterr().out)


def test_callback_from_the_other_provider_changes_nothing(api: Api, aws: Provisioned) -> None:
    document = doc_example("ecommpay/atm-gate-purchase-success.json")
    payment = seed(aws, "ecommpay", document)
    foreign = deliver(api, "monetix", signed_body(document, "monetix"))  # ecommpay's project
    assert foreign["statusCode"] == 400
    assert body_of(foreign)["error"]["field"] == "project_id"
    document["project_id"] = DEV_SECRETS["MonetixSecret"]["project_id"]
    response = deliver(api, "monetix", signed_body(document, "monetix"))
    assert response["statusCode"] == 200
    assert get(api, payment.id)["status"] == "created"
    assert [i["outcome"]["S"] for i in items(aws, "webhook")] == ["unknown_payment"]


def test_unknown_payment_is_acknowledged_and_recorded(
    api: Api, aws: Provisioned, capsys: pytest.CaptureFixture[str]
) -> None:
    document = doc_example("ecommpay/atm-gate-purchase-success.json")
    response = deliver(api, "ecommpay", signed_body(document, "ecommpay"))
    assert response["statusCode"] == 200
    stored = items(aws, "webhook")
    assert [i["outcome"]["S"] for i in stored] == ["unknown_payment"]
    assert json.loads(zlib.decompress(stored[0]["body"]["B"]))["signature"] == "*****"  # masked
    assert "Webhook_unknown_payment" in metric_names(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_request"),
        (b"[1, 2]", 400, "malformed_request"),
        (b"", 400, "malformed_request"),
    ],
)
def test_malformed_callbacks(
    api: Api, aws: Provisioned, body: bytes, status: int, code: str
) -> None:
    response = deliver(api, "ecommpay", body)
    assert response["statusCode"] == status
    assert body_of(response)["error"]["code"] == code


def test_signed_callback_without_payment_id_is_400_naming_it(api: Api, aws: Provisioned) -> None:
    response = deliver(api, "monetix", signed_body({"project_id": 1234, "payment": {}}, "monetix"))
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["field"] == "payment.id"
