"""`ops.backfill_list_keys`: payments stored before the list indexes existed are found by
the list routes after it runs; a second run changes nothing; a payment that changed
meanwhile keeps the ledger's keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3

from local.aws.provision import Provisioned
from ops.backfill_list_keys import backfill
from paygate.api_requests import PayproPaymentRequest
from paygate.domain import Cause, Kind, Method, PaymentStatus, Provider, ProviderUpdate, payment_for
from paygate.ledger import Ledger
from paygate.repository import PaymentRepository, to_item
from paygate.table_items import LISTED_AT, REFERENCE_KEY, STATUS_KEY, payment_document

from .conftest import Api

OLD_ATTRIBUTES = (LISTED_AT, REFERENCE_KEY, STATUS_KEY, "history")


def store_as_before(aws: Provisioned, reference: str, kind: Kind = Kind.PAYMENT) -> str:
    """A payment item as the version before the list indexes wrote it."""
    payment = payment_for(Provider.PAYPRO, PayproPaymentRequest(amount=50_000,
                          merchant_reference=reference))  # fmt: skip
    if kind is Kind.PAYOUT:
        payment = payment.model_copy(update={"id": "po_" + payment.id[4:], "kind": kind})
    document = {k: v for k, v in payment_document(payment).items() if k not in OLD_ATTRIBUTES}
    boto3.client("dynamodb").put_item(TableName=aws.refs["PaymentsTable"], Item=to_item(document))
    return payment.id


def listed(api: Api, path: str, reference: str) -> list[str]:
    answer = api.answer(200, "GET", f"{path}?merchant_reference={reference}")
    return [p["id"] for p in answer["data"]]


def test_old_payments_are_listed_after_the_backfill_and_a_rerun_changes_nothing(
    api: Api, aws: Provisioned
) -> None:
    old = store_as_before(aws, "order-old")
    payout = store_as_before(aws, "order-old", Kind.PAYOUT)
    assert listed(api, "/v1/payments", "order-old") == []  # not in the list indexes yet
    report = backfill(aws.refs["PaymentsTable"])
    assert (report.updated, report.changed_meanwhile) == (2, 0)
    assert listed(api, "/v1/payments", "order-old") == [old]
    assert listed(api, "/v1/payouts", "order-old") == [payout]
    status = api.answer(200, "GET", "/v1/payments?status=created&limit=100")
    assert old in [p["id"] for p in status["data"]]
    again = backfill(aws.refs["PaymentsTable"])
    assert (again.updated, again.changed_meanwhile) == (0, 0)


def test_a_payment_that_changed_meanwhile_keeps_the_ledgers_keys(aws: Provisioned) -> None:
    table = aws.refs["PaymentsTable"]
    payment_id = store_as_before(aws, "order-racing")
    client = boto3.client("dynamodb")
    stale_read: dict[str, Any] = {}

    class ReadThenRace:
        """The backfill's client: the ledger changes the payment right after the scan."""

        def get_paginator(self, name: str) -> Any:
            return client.get_paginator(name)

        def update_item(self, **request: Any) -> Any:
            if not stale_read:
                stale_read.update(request)
                repository = PaymentRepository(table, timedelta(days=1))
                current = repository.get(payment_id)
                assert current is not None
                pending = ProviderUpdate(status=PaymentStatus.PENDING)
                Ledger(repository).apply(current, pending, Cause.RECONCILIATION)
            return client.update_item(**request)

    report = backfill(table, ReadThenRace())
    assert (report.updated, report.changed_meanwhile) == (0, 1)
    item = client.get_item(TableName=table, Key=stale_read["Key"])["Item"]
    assert item[STATUS_KEY]["S"] == "payment#pending" and item["status"]["S"] == "pending"
    assert Method.VIETQR.value == item["method"]["S"]
