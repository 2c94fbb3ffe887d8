"""Scheduled reconciliation: the sparse index, a provider timeout resolved by a status query,
a provider that never calls back, payments expiring when retries or the provider's window run
out; through the real reconcile handler's wiring, moto and the sandboxes."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import boto3
import httpx

from local.aws_calls import acting_as
from local.provision import Provisioned
from local.sandboxes.paypro import PayproSandbox
from local.sandboxes.platform import PlatformSandbox
from paygate import wiring
from paygate.models import ClarificationAction, Payment, Provider, utcnow
from paygate.money import Method
from paygate.reconcile import Reconciler
from paygate.settings import ReconcileSettings, load_settings
from paygate.status import PaymentStatus

from .conftest import Api, body_of
from .platform_support import TRANSFER_ORDER, create

JSON = {"content-type": "application/json"}
PAYIN = {"amount": 50000, "currency": "VND", "merchant_reference": "order-reconcile"}


def reconciler(minutes_later: float, **policy: Any) -> Reconciler:
    """The reconcile function's own wiring with a later clock; its runs' AWS calls count as
    ReconcileFunction's for the IAM check (tests/iam/)."""
    job = wiring.reconciler(load_settings(ReconcileSettings))
    if policy:
        job.policy = type(job.policy)(**{**job.policy.__dict__, **policy})
    job.clock = lambda: utcnow() + timedelta(minutes=minutes_later)
    run = job.run

    def run_as_the_function(limit: int = 100) -> Any:
        with acting_as("ReconcileFunction"):
            return run(limit)

    job.run = run_as_the_function  # type: ignore[method-assign]
    return job


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
    httpx.post(f"{paypro_sandbox.base_url}/_sandbox/faults", json={"payin": "timeout", "count": 1})
    answer = api.call("POST", "/v1/paypro/payments", PAYIN, JSON)
    assert answer["statusCode"] == 504
    payment_id = body_of(answer)["error"]["payment_id"]
    order: dict[str, Any] = {}
    for _ in range(40):  # the sandbox takes the order once its fault delay is over
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


def test_retries_run_out_and_the_payment_expires_once(
    api: Api, aws: Provisioned, monetix_sandbox: PlatformSandbox
) -> None:
    payment = create(api, "monetix", TRANSFER_ORDER)  # nobody pays
    first = reconciler(2, max_attempts=2).run()
    assert (first.checked, first.rescheduled, first.expired) == (1, 1, 0)
    waiting = body_of(api.call("GET", f"/v1/payments/{payment['id']}"))
    assert waiting["status"] == "requires_action"  # the status query brought the instructions
    assert reconciler(4, max_attempts=2).run().checked == 0  # next query is 5 minutes later
    second = reconciler(8, max_attempts=2).run()
    assert (second.checked, second.expired) == (1, 1)
    final = body_of(api.call("GET", f"/v1/payments/{payment['id']}"))
    assert (final["status"], final["failure"]["code"]) == ("expired", "expired")
    assert final["version"] == waiting["version"] + 1  # one change, one event
    assert reconciler(30, max_attempts=2).run().checked == 0


def test_a_clarification_past_the_platform_window_expires(api: Api, aws: Provisioned) -> None:
    old = utcnow() - timedelta(minutes=31)
    waiting = Payment(
        id="pay_clarify_old", provider=Provider.ECOMMPAY, method=Method.NAPAS_ATM,
        status=PaymentStatus.REQUIRES_ACTION, amount=100_000, merchant_reference="o",
        next_action=ClarificationAction(fields=["card.pan"]), created_at=old, updated_at=old,
    )  # fmt: skip
    wiring.ledger(load_settings(ReconcileSettings)).repository.create(waiting)
    report = reconciler(0).run()  # the platform never registered it: it says nothing new
    assert report.expired == 1
    final = body_of(api.call("GET", "/v1/payments/pay_clarify_old"))
    assert final["status"] == "expired"


def test_the_scheduled_handler_reports(handlers: Any, aws: Provisioned, api: Api) -> None:
    from local.apigw import FakeLambdaContext
    from local.scheduler import scheduled_event

    answer = handlers("reconcile").lambda_handler(
        scheduled_event("ReconcileFunction"), FakeLambdaContext("reconcile")
    )
    assert answer == {"checked": 0, "changed": 0, "expired": 0, "rescheduled": 0, "errors": []}
