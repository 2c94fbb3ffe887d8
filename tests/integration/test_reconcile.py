"""Scheduled reconciliation through the real reconcile handler's wiring, moto and the
sandboxes, on a moved gateway clock: the sparse index, a provider timeout resolved by a status
query, a provider that never calls back, in-progress answers that keep the customer's next
action, expiry at the method's window, a late payment after expiry, a payout in motion."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import boto3
import httpx
import pytest

from local.aws.provision import Provisioned
from local.sandboxes.paypro import PayproSandbox
from local.sandboxes.platform import PlatformSandbox
from paygate import wiring
from paygate.domain import (
    ClarificationAction,
    Kind,
    Method,
    Payment,
    PaymentStatus,
    Provider,
    utcnow,
)
from paygate.settings import ReconcileSettings, load_settings

from .conftest import TIMEOUT_FAULT_SECONDS, Api, GatewayTime, body_of
from .platform_support import TRANSFER_ORDER, create
from .reconcile_support import FanOut, later_clock

JSON = {"content-type": "application/json"}
PAYIN = {"amount": 50000, "currency": "VND", "merchant_reference": "order-reconcile"}


def reconciler(minutes_later: float = 0) -> FanOut:
    """Reconciliation as deployed (the dispatcher's and the worker's wiring, moto's queues)
    with a later clock; its AWS calls count as those functions' for the IAM check
    (tests/iam/)."""
    return FanOut(later_clock(minutes_later))


def stored(aws: Provisioned, payment_id: str) -> dict[str, Any]:
    item: dict[str, Any] = boto3.client("dynamodb").get_item(
        TableName=aws.refs["PaymentsTable"],
        Key={"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": "PAYMENT"}},
    )["Item"]
    return item


def test_only_payments_that_are_not_final_are_in_the_due_index(api: Api, aws: Provisioned) -> None:
    payment = body_of(api.call("POST", "/v1/paypro/payments", PAYIN, JSON))
    repository = wiring.ledger(load_settings(ReconcileSettings)).repository
    assert [p.id for p in repository.due(utcnow(), 10)] == []  # the first query is after 60 s
    soon = utcnow() + timedelta(minutes=2)
    assert [p.id for p in repository.due(soon, 10)] == [payment["id"]]
    assert "reconcile_due" in stored(aws, payment["id"])
    from .test_paypro_webhook import deliver, notify

    assert deliver(api, notify("notify-success", payment))["statusCode"] == 200
    assert repository.due(soon, 10) == []
    assert "reconcile_due" not in stored(aws, payment["id"])
    assert "reconcile_at" not in stored(aws, payment["id"])


def test_a_provider_timeout_is_resolved_by_a_status_query(
    api: Api, aws: Provisioned, paypro_sandbox: PayproSandbox
) -> None:
    sandbox_settings = f"{paypro_sandbox.base_url}/_sandbox/settings"
    httpx.post(sandbox_settings, json={"timeout_delay_seconds": TIMEOUT_FAULT_SECONDS})
    httpx.post(f"{paypro_sandbox.base_url}/_sandbox/faults", json={"payin": "timeout", "count": 1})
    answer = api.call("POST", "/v1/paypro/payments", PAYIN, JSON)
    httpx.post(sandbox_settings, json={"timeout_delay_seconds": 30})
    assert answer["statusCode"] == 504
    payment_id = body_of(answer)["error"]["payment_id"]
    order: dict[str, Any] = {}
    for _ in range(100):  # the sandbox takes the order once its fault delay (1 s) is over
        order = httpx.get(f"{paypro_sandbox.base_url}/_sandbox/orders/{payment_id}").json()
        if "platFormTradeNo" in order:
            break
        time.sleep(0.1)
    httpx.post(f"{paypro_sandbox.base_url}/pay/{order['platFormTradeNo']}/pay", json={})
    report = reconciler(2).run()
    assert (report.checked, report.changed) == (1, 1)
    final = body_of(api.call("GET", f"/v1/payments/{payment_id}"))
    assert final["status"] == "succeeded"


def test_a_provider_that_never_calls_back_is_reconciled(
    api: Api, aws: Provisioned, monetix_sandbox: PlatformSandbox
) -> None:
    payment = create(api, "monetix", TRANSFER_ORDER)  # its callbacks are never delivered here
    httpx.post(f"{monetix_sandbox.base_url}/_sandbox/payments/{payment['id']}/transfer", json={})
    reconciler(2).run()
    assert body_of(api.call("GET", f"/v1/payments/{payment['id']}"))["status"] == "succeeded"


def test_an_unpaid_transfer_keeps_its_instructions_until_the_window_then_expires_once(
    api: Api, aws: Provisioned, monetix_sandbox: PlatformSandbox, later: GatewayTime
) -> None:
    payment = create(api, "monetix", TRANSFER_ORDER)  # nobody pays
    later.advance(minutes=2)
    first = reconciler().run()
    assert (first.checked, first.rescheduled, first.expired) == (1, 1, 0)
    waiting = body_of(api.call("GET", f"/v1/payments/{payment['id']}"))
    assert waiting["status"] == "requires_action"  # the status query brought the instructions
    assert waiting["next_action"]["type"] == "bank_transfer_instructions"
    later.advance(seconds=30)
    assert reconciler().run().checked == 0  # a new status: asked again 60 s after it
    for minutes in (0.5, 2, 4, 8):  # then 2, 4, 8 minutes; in-progress answers change nothing
        later.advance(minutes=minutes)
        assert reconciler().run().checked == 1
        again = body_of(api.call("GET", f"/v1/payments/{payment['id']}"))
        assert again["next_action"] == waiting["next_action"]
        assert again["version"] == waiting["version"]
    later.advance(minutes=16)  # 31 minutes after the instructions came (window: 30)
    final_run = reconciler().run()
    assert final_run.expired == 1
    final = body_of(api.call("GET", f"/v1/payments/{payment['id']}"))
    assert (final["status"], final["failure"]["code"]) == ("expired", "expired")
    assert final["version"] == waiting["version"] + 1  # one change, one event
    # the tail: the expired payment is still asked about, spaced out, for 72 hours (money paid
    # after the expiry with lost callbacks), then never again; nothing changes meanwhile
    tail_runs = 0
    for _ in range(40):
        later.advance(hours=6)
        tail_runs += reconciler().run().checked
    assert 0 < tail_runs <= 18
    later.advance(days=1)
    assert reconciler().run().checked == 0
    after = body_of(api.call("GET", f"/v1/payments/{payment['id']}"))
    assert (after["status"], after["version"]) == ("expired", final["version"])


def test_a_vietqr_payin_keeps_its_qr_while_paypro_says_in_progress(
    api: Api, aws: Provisioned, paypro_sandbox: PayproSandbox, later: GatewayTime
) -> None:
    payment = body_of(api.call("POST", "/v1/paypro/payments", PAYIN, JSON))
    assert payment["status"] == "requires_action"
    for minutes in (1, 2, 4, 8, 14):  # Paypro answers 0015 for an open order
        later.advance(minutes=minutes)
        reconciler().run()
        seen = body_of(api.call("GET", f"/v1/payments/{payment['id']}"))
        assert (seen["status"], seen["next_action"]) == ("requires_action", payment["next_action"])
    later.advance(minutes=2)
    assert reconciler().run().expired == 1
    from .test_paypro_webhook import deliver, notify

    # The customer pays after the gateway ended the payment: never dropped.
    assert deliver(api, notify("notify-success", payment))["statusCode"] == 200
    assert deliver(api, notify("notify-success", payment))["statusCode"] == 200  # redelivered
    final = body_of(api.call("GET", f"/v1/payments/{payment['id']}"))
    assert (final["status"], final["failure"]["code"]) == ("needs_review", "paid_after_expiry")
    assert final["version"] == payment["version"] + 2  # expired, then needs_review: 2 events


def test_a_payout_in_motion_never_expires_and_needs_review_after_11_days(
    api: Api, aws: Provisioned, ecommpay_sandbox: PlatformSandbox, later: GatewayTime
) -> None:
    from .test_payouts import WALLET_PAYOUT

    response = api.call("POST", "/v1/ecommpay/payouts", WALLET_PAYOUT, JSON)
    payout = body_of(response)
    assert payout["status"] == "processing"
    elapsed = timedelta()
    step = timedelta(hours=6)
    while elapsed < timedelta(days=11) - step:
        later.advance(seconds=step.total_seconds())
        elapsed += step
        reconciler().run()
        assert body_of(api.call("GET", f"/v1/payouts/{payout['id']}"))["status"] == "processing"
    later.advance(hours=7)
    report = reconciler().run()
    assert report.silent == 1
    final = body_of(api.call("GET", f"/v1/payouts/{payout['id']}"))
    assert (final["status"], final["failure"]["code"]) == ("needs_review", "provider_silent")
    assert final["version"] == payout["version"] + 1


def test_a_clarification_past_the_platform_window_expires(api: Api, aws: Provisioned) -> None:
    old = utcnow() - timedelta(minutes=31)
    waiting = Payment(
        id="pay_clarify_old", provider=Provider.ECOMMPAY, method=Method.NAPAS_ATM,
        status=PaymentStatus.REQUIRES_ACTION, amount=100_000, merchant_reference="o",
        next_action=ClarificationAction(fields=["card.pan"]), created_at=old, updated_at=old,
    )  # fmt: skip
    wiring.ledger(load_settings(ReconcileSettings)).repository.create(waiting)
    report = reconciler().run()  # the platform never registered it: it says nothing new
    assert report.expired == 1
    final = body_of(api.call("GET", "/v1/payments/pay_clarify_old"))
    assert final["status"] == "expired"


def test_the_dispatcher_handler_reports(handlers: Any, aws: Provisioned, api: Api) -> None:
    from local.aws.apigw import FakeLambdaContext
    from local.aws.scheduler import scheduled_event

    answer = handlers("reconcile_dispatch").lambda_handler(
        scheduled_event("ReconcileDispatchFunction"), FakeLambdaContext("reconcile_dispatch")
    )
    assert answer == {
        "due": 0, "leased": 0, "taken": 0, "sent": 0, "unsent": 0, "deferred": 0,
        "errors": 0, "by_provider": {}, "next_due_at": None,
    }  # fmt: skip


def test_the_worker_handler_counts_provider_silence_and_lag_in_metrics(
    handlers: Any,
    aws: Provisioned,
    api: Api,
    later: GatewayTime,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What `ProviderSilentAlarm` and `ReconcileLagAlarm` watch: the worker's `ProviderSilent`
    and `ReconcileLagSeconds` metrics, for a payout the dispatcher handler sent to its queue."""
    from local.aws.apigw import FakeLambdaContext
    from local.aws.queues import sqs_event
    from local.aws.scheduler import scheduled_event

    from ..conftest import metric_names

    old = utcnow() - timedelta(days=12)
    payout = Payment(
        id="po_silent_old", kind=Kind.PAYOUT, provider=Provider.ECOMMPAY,
        method=Method.NAPAS_ATM, status=PaymentStatus.PROCESSING, amount=150_000,
        merchant_reference="o", provider_reference="req-1", created_at=old, updated_at=old,
    )  # fmt: skip
    wiring.ledger(load_settings(ReconcileSettings)).repository.create(payout)
    sent = handlers("reconcile_dispatch").lambda_handler(
        scheduled_event("ReconcileDispatchFunction"), FakeLambdaContext("reconcile_dispatch")
    )
    assert (sent["sent"], sent["by_provider"]) == (1, {"ecommpay": 1})
    queue = aws.refs["ReconcileEcommpayQueue"]
    messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    event = sqs_event(messages["Messages"], aws.attributes[("ReconcileEcommpayQueue", "Arn")])
    later.advance(seconds=30)
    capsys.readouterr()
    answer = handlers("reconcile").lambda_handler(event, FakeLambdaContext("reconcile"))
    assert answer == {"batchItemFailures": []}
    printed = capsys.readouterr().out
    assert {"ProviderSilent", "ReconcileLagSeconds"} <= metric_names(printed)
    blobs = [json.loads(line) for line in printed.splitlines() if '"ProviderSilent"' in line]
    assert [blob["ProviderSilent"] for blob in blobs] == [[1.0]]  # the count, not just the name
    lags = [blob["ReconcileLagSeconds"] for blob in blobs if "ReconcileLagSeconds" in blob]
    # due when it was created (12 days ago, its first query 60 s later): the lag says so
    assert len(lags) == 1 and lags[0][0] > 12 * 86_400 - 120
    final = body_of(api.call("GET", "/v1/payouts/po_silent_old"))
    assert (final["status"], final["failure"]["code"]) == ("needs_review", "provider_silent")
