"""What a Paypro notify's MD5 `sign` cannot prove, through the real webhook handler, moto and
the local Paypro sandbox: documented formats and keys (a refusal is a 400 that stores and
changes nothing, counted), the re-split of a signed payout notify, a replay after its dedupe
record expired (on a moved gateway clock), and the confirmation by the payin query."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from local.aws.aws_calls import acting_as
from local.aws.provision import Provisioned
from local.sandboxes.paypro import PayproSandbox
from paygate import wiring
from paygate.domain import WebhookOutcome
from paygate.errors import MalformedRequest
from paygate.observability import metrics
from paygate.settings import PayproNotifySettings
from tests.conftest import metric_names

from .conftest import Api, GatewayTime, body_of, signed
from .test_paypro_webhook import deliver, get, new_payment, notify, webhook_items

JSON = {"content-type": "application/json"}
PAYOUT = {
    "amount": 60_000,
    "merchant_reference": "payout-pp-1",
    "account_name": "NGUYEN VAN A",
    "bank_name": "ACB",
    "bank_number": "0123456789",
}


def refused_and_unchanged(
    api: Api, aws: Provisioned, body: dict[str, Any], payment: dict[str, Any], capsys: Any
) -> dict[str, Any]:
    """The notify is answered 400, counted, stores nothing; the payment is as it was."""
    path = f"/v1/{'payouts' if payment['id'].startswith('po_') else 'payments'}/{payment['id']}"
    before = api.read(path)
    capsys.readouterr()
    response = deliver(api, body)
    assert response["statusCode"] == 400, response
    assert "WebhookRefused" in metric_names(capsys.readouterr().out)
    assert webhook_items(aws) == []
    after = api.read(path)
    assert (after["status"], after["version"]) == (before["status"], before["version"])
    error: dict[str, Any] = body_of(response)["error"]
    return error


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "0000 "),
        ("message", "paid\r\n"),
        ("platFormTradeNo", "jfr6 npom"),
        ("tradeNo", "133323392"),
        ("amount", "50000.00"),
        ("successTime", "today"),
        ("timestamp", "1729153481"),
        ("merchantNo", "1573818477x"),
        ("payment_status", "success"),  # an unknown key
        ("merchantNo", "1111111111"),  # well-formed, another merchant's
    ],
)
def test_a_signed_notify_out_of_its_documented_format_is_refused(
    api: Api, aws: Provisioned, capsys: pytest.CaptureFixture[str], field: str, value: str
) -> None:
    payment = new_payment(api)
    error = refused_and_unchanged(
        api, aws, notify("notify-success", payment, **{field: value}), payment, capsys
    )
    assert error["field"] == field


def test_the_resplit_of_a_payout_in_motion_is_refused(
    api: Api, aws: Provisioned, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 22: moving the `timestamp` text into `status` keeps a `0015` notify's sign; read
    as `failed`, it invited the merchant to pay the payee again."""
    payout = api.answer(201, "POST", "/v1/paypro/payouts", PAYOUT)
    genuine = notify("notify-processing", payout)
    attack = {key: value for key, value in genuine.items() if key != "timestamp"}
    attack["status"] = f"0015timestamp={genuine['timestamp']}"
    assert attack["sign"] == signed(attack)["sign"]  # the same signature
    error = refused_and_unchanged(api, aws, attack, payout, capsys)
    assert error["field"] == "status"
    assert deliver(api, genuine)["statusCode"] == 200
    assert api.read(f"/v1/payouts/{payout['id']}")["status"] == "processing"


def test_a_genuine_notify_replayed_after_its_dedupe_record_expired_changes_nothing(
    api: Api, aws: Provisioned, later: GatewayTime, capsys: pytest.CaptureFixture[str]
) -> None:
    """A success with another amount needs review; the merchant rejects it (failed). 91 days
    later its dedupe record is gone (DynamoDB's TTL, `WEBHOOK_RETENTION_DAYS` = 90): the same
    genuine notify, replayed, is too old to change anything."""
    payment = new_payment(api)
    captured = notify("notify-success", payment, amount="40000")
    assert deliver(api, captured)["statusCode"] == 200
    assert get(api, payment["id"])["status"] == "needs_review"
    headers = {**JSON, "Idempotency-Key": "review-1"}
    review = {"decision": "reject", "note": "refunded the customer"}
    answer = api.call("POST", f"/v1/payments/{payment['id']}/review", review, headers)
    assert answer["statusCode"] == 200, answer
    ended = get(api, payment["id"])
    assert ended["status"] == "failed"

    later.advance(days=91)
    table = aws.refs["PaymentsTable"]
    dynamodb = boto3.client("dynamodb")
    (record,) = webhook_items(aws)
    assert int(record["expires_at"]["N"]) < later().timestamp()  # TTL would have removed it
    dynamodb.delete_item(TableName=table, Key={"pk": record["pk"], "sk": record["sk"]})
    error = refused_and_unchanged(api, aws, captured, payment, capsys)
    assert error["field"] == "timestamp" and "older than" in error["message"]
    assert get(api, payment["id"]) == ended


# -- confirmation by the payin query (PAYPRO_CONFIRM_BY_QUERY) ------------------------------------


def confirming() -> Any:
    """The webhook function's own wiring with `PAYPRO_CONFIRM_BY_QUERY=true`."""
    environment = {**os.environ, "PAYPRO_CONFIRM_BY_QUERY": "true"}
    return wiring.paypro_notifications(PayproNotifySettings.model_validate(environment))


def paid_at_the_sandbox(api: Api, sandbox: PayproSandbox) -> tuple[dict[str, Any], bytes]:
    """A payment its customer paid at the sandbox's cashier, and the notify the sandbox sent
    (not delivered: the tests' notify URL answers nothing)."""
    payment = new_payment(api)
    reference = payment["provider_reference"]
    httpx.post(f"{sandbox.base_url}/pay/{reference}/pay", headers={"Accept": "application/json"})
    order = httpx.get(f"{sandbox.base_url}/_sandbox/orders/{payment['id']}").json()
    return payment, json.dumps(order["notify"]).encode()


def queries(sandbox: PayproSandbox, payment_id: str) -> int:
    count: int = httpx.get(f"{sandbox.base_url}/_sandbox/orders/{payment_id}").json()["queries"]
    return count


@pytest.fixture
def query_mode(paypro_sandbox: PayproSandbox) -> Iterator[Any]:
    url = f"{paypro_sandbox.base_url}/_sandbox/settings"

    def use(mode: str) -> None:
        httpx.post(url, json={"status_query": mode}).raise_for_status()

    yield use
    use("normal")


def test_confirmation_off_by_default_makes_no_query(
    api: Api, aws: Provisioned, paypro_sandbox: PayproSandbox
) -> None:
    payment, raw = paid_at_the_sandbox(api, paypro_sandbox)
    assert deliver(api, json.loads(raw))["statusCode"] == 200
    assert get(api, payment["id"])["status"] == "succeeded"
    assert queries(paypro_sandbox, payment["id"]) == 0


def test_a_success_confirmed_by_the_payin_query_counts(
    api: Api, aws: Provisioned, paypro_sandbox: PayproSandbox
) -> None:
    payment, raw = paid_at_the_sandbox(api, paypro_sandbox)
    with acting_as("PayproWebhookFunction"):
        assert confirming().ingest(raw) is WebhookOutcome.APPLIED
    assert get(api, payment["id"])["status"] == "succeeded"
    assert queries(paypro_sandbox, payment["id"]) == 1


def test_a_success_the_query_contradicts_does_not_count(
    api: Api,
    aws: Provisioned,
    paypro_sandbox: PayproSandbox,
    query_mode: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    payment, raw = paid_at_the_sandbox(api, paypro_sandbox)
    query_mode("in_progress")  # the query answers `0015`: nobody paid
    with acting_as("PayproWebhookFunction"):
        confirming().ingest(raw)
    metrics.flush_metrics()
    assert "WebhookConfirmationDisagreed" in metric_names(capsys.readouterr().out)
    assert get(api, payment["id"])["status"] == "requires_action"


def test_a_success_waits_while_the_query_cannot_answer(
    api: Api,
    aws: Provisioned,
    paypro_sandbox: PayproSandbox,
    query_mode: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    payment, raw = paid_at_the_sandbox(api, paypro_sandbox)
    query_mode("silent")  # HTTP 503
    with acting_as("PayproWebhookFunction"):
        assert confirming().ingest(raw) is WebhookOutcome.UNCONFIRMED
    metrics.flush_metrics()
    assert "WebhookUnconfirmed" in metric_names(capsys.readouterr().out)
    assert get(api, payment["id"])["status"] == "requires_action"
    (stored,) = webhook_items(aws)
    assert stored["outcome"]["S"] == "unconfirmed"


def test_confirmation_needs_the_base_url() -> None:
    environment = {**os.environ, "PAYPRO_CONFIRM_BY_QUERY": "true", "PAYPRO_BASE_URL": ""}
    with pytest.raises(ValueError, match="PAYPRO_BASE_URL"):
        PayproNotifySettings.model_validate(environment)


def test_the_age_limit_may_not_outlive_the_dedupe_records() -> None:
    environment = {**os.environ, "WEBHOOK_RETENTION_DAYS": "1", "PAYPRO_NOTIFY_MAX_AGE_HOURS": "48"}
    with pytest.raises(ValueError, match="WEBHOOK_RETENTION_DAYS"):
        PayproNotifySettings.model_validate(environment)


def test_a_malformed_request_is_what_ingest_raises(api: Api, aws: Provisioned) -> None:
    payment = new_payment(api)
    body = notify("notify-success", payment, status="0000x")
    with acting_as("PayproWebhookFunction"), pytest.raises(MalformedRequest):
        confirming().ingest(json.dumps(body).encode())
