"""POST /webhooks/paypro: the provider's notify replayed (signed with the dev secret) through
the real handler and moto."""

from __future__ import annotations

import json
import zlib
from datetime import timedelta
from typing import Any

import boto3
import pytest

from local.aws.provision import Provisioned
from paygate import clock as gateway_clock
from paygate.domain import new_payment_id
from paygate.repository import PaymentRepository
from tests.conftest import metric_names

from .conftest import Api, body_of, load_event_json, signed

JSON = {"content-type": "application/json"}


def new_payment(api: Api, amount: int = 50000) -> dict[str, Any]:
    body = {"amount": amount, "currency": "VND", "merchant_reference": "order-7"}
    response = api.call("POST", "/v1/paypro/payments", body, JSON)
    assert response["statusCode"] == 201, response
    payment: dict[str, Any] = body_of(response)
    return payment


def now_ms() -> str:
    """The gateway clock's now as Paypro signs it: milliseconds since the epoch."""
    return str(int(gateway_clock.now().timestamp() * 1000))


def notify(name: str, payment: dict[str, Any], **overrides: str) -> dict[str, Any]:
    """A documented notify example, aimed at `payment`, signed now (by the gateway clock)."""
    fields = load_event_json(f"paypro/{name}.json")
    fields.update(
        tradeNo=payment["id"],
        platFormTradeNo=payment["provider_reference"],
        amount=str(payment["amount"]),
        timestamp=now_ms(),
    )
    fields.update(overrides)
    return signed(fields)


def deliver(api: Api, body: dict[str, Any] | bytes) -> dict[str, Any]:
    return api.call("POST", "/webhooks/paypro", body, JSON)


def get(api: Api, payment_id: str) -> dict[str, Any]:
    payment: dict[str, Any] = body_of(api.call("GET", f"/v1/payments/{payment_id}"))
    return payment


def webhook_items(aws: Provisioned) -> list[dict[str, Any]]:
    table = aws.refs["PaymentsTable"]
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return [i for i in items if i["entity"]["S"] == "webhook"]


@pytest.mark.parametrize(
    ("example", "status"),
    [
        ("notify-success", "succeeded"),
        # `0015` on a payin: the order is open, nobody paid yet; the QR stays (lifecycle rule 1)
        ("notify-processing", "requires_action"),
        ("notify-declined", "failed"),
    ],
)
def test_documented_notifies_replay_to_their_status(api: Api, example: str, status: str) -> None:
    payment = new_payment(api)
    response = deliver(api, notify(example, payment))
    assert response["statusCode"] == 200
    assert response["body"] == "OK"
    assert response["multiValueHeaders"]["Content-Type"] == ["text/plain"]
    assert get(api, payment["id"])["status"] == status


def test_decline_keeps_the_provider_code(api: Api) -> None:
    payment = new_payment(api)
    deliver(api, notify("notify-declined", payment))
    failure = get(api, payment["id"])["failure"]
    assert failure["provider_code"] == "00029"
    assert failure["provider_message"] == "Transaction rejected"


@pytest.mark.parametrize("sign", ["", "0" * 32, None])
def test_bad_or_missing_sign_is_a_401_and_changes_nothing(
    api: Api, aws: Provisioned, sign: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    payment = new_payment(api)
    body = notify("notify-success", payment)
    if sign is None:
        body.pop("sign")
    else:
        body["sign"] = sign
    capsys.readouterr()
    response = deliver(api, body)
    assert "WebhookSignatureInvalid" in metric_names(capsys.readouterr().out)
    assert response["statusCode"] == 401
    assert body_of(response)["error"]["code"] == "invalid_signature"
    after = get(api, payment["id"])
    assert (after["status"], after["version"]) == ("requires_action", 2)
    assert webhook_items(aws) == []


def test_a_field_changed_after_signing_is_refused(api: Api) -> None:
    payment = new_payment(api)
    body = notify("notify-success", payment)
    body["amount"] = "1"
    assert deliver(api, body)["statusCode"] == 401


def test_malformed_json_is_a_400(api: Api) -> None:
    response = deliver(api, b"{oops")
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == "malformed_request"


def test_signed_but_missing_required_field_is_a_400_naming_it(api: Api) -> None:
    payment = new_payment(api)
    body = notify("notify-success", payment)
    body.pop("status")
    response = deliver(api, signed(body))
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["field"] == "status"


def test_same_notify_three_times_changes_once(api: Api, aws: Provisioned) -> None:
    payment = new_payment(api)
    body = notify("notify-success", payment)
    answers = [deliver(api, body) for _ in range(3)]
    assert [a["statusCode"] for a in answers] == [200, 200, 200]
    after = get(api, payment["id"])
    assert (after["status"], after["version"]) == ("succeeded", 3)
    assert len(webhook_items(aws)) == 1


def test_unknown_trade_number_is_acknowledged_stored_and_counted(
    api: Api, aws: Provisioned, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = {"tradeNo": new_payment_id(), "timestamp": now_ms()}
    fields = signed({**load_event_json("paypro/notify-success.json"), **unknown})
    capsys.readouterr()
    response = deliver(api, fields)
    assert response["statusCode"] == 200 and response["body"] == "OK"
    items = webhook_items(aws)
    assert len(items) == 1
    assert items[0]["outcome"]["S"] == "unknown_payment"
    assert json.loads(zlib.decompress(items[0]["body"]["B"]))["sign"] == "*****"  # masked
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    names = {
        m["Name"]
        for blob in metrics
        for d in blob["_aws"]["CloudWatchMetrics"]
        for m in d["Metrics"]
    }
    assert "Webhook_unknown_payment" in names


def test_customer_paid_another_amount_needs_review(api: Api) -> None:
    payment = new_payment(api)
    deliver(api, notify("notify-success", payment, amount="40000"))
    after = get(api, payment["id"])
    assert after["status"] == "needs_review"
    assert after["amount_received"] == 40000


def test_late_processing_after_success_changes_nothing(api: Api) -> None:
    payment = new_payment(api)
    deliver(api, notify("notify-success", payment))
    assert deliver(api, notify("notify-processing", payment))["statusCode"] == 200
    after = get(api, payment["id"])
    assert (after["status"], after["version"]) == ("succeeded", 3)


def test_previous_secret_still_verifies_during_rotation(api: Api, aws: Provisioned) -> None:
    from aws_lambda_powertools.utilities import parameters

    secret_id = aws.refs["PayproSecret"]
    first, second, third = new_payment(api), new_payment(api), new_payment(api)
    rotated = {"merchant_no": "1573818477", "app_secret": "new", "app_secret_previous": "old"}
    boto3.client("secretsmanager").put_secret_value(
        SecretId=secret_id, SecretString=json.dumps(rotated)
    )
    parameters.clear_caches()
    old_signed = signed({**notify("notify-success", first)}, secret="old")
    new_signed = signed({**notify("notify-success", second)}, secret="new")
    assert deliver(api, old_signed)["statusCode"] == 200
    assert deliver(api, new_signed)["statusCode"] == 200
    after_rotation = {**rotated, "app_secret_previous": ""}
    boto3.client("secretsmanager").put_secret_value(
        SecretId=secret_id, SecretString=json.dumps(after_rotation)
    )
    parameters.clear_caches()
    assert deliver(api, signed(notify("notify-success", third), secret="old"))["statusCode"] == 401


def test_stored_record_matches_the_repository(api: Api, aws: Provisioned) -> None:
    payment = new_payment(api)
    deliver(api, notify("notify-success", payment))
    repository = PaymentRepository(aws.refs["PaymentsTable"], timedelta(days=1))
    stored = repository.get(payment["id"])
    assert stored is not None and stored.status == "succeeded"
    found = repository.find_by_provider_reference(stored.provider, payment["provider_reference"])
    assert found is not None and found.id == payment["id"]
