"""`ops.backfill_list_keys` on moto: payments stored in an older shape (no list keys at all,
or the list keys before sharding and the legacy `due` schedule partition) are found by the
list routes after it runs; a second run changes nothing; a payment that changed meanwhile
keeps the ledger's keys; a stopped run resumes from its state file; writes keep to the rate."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.aws.provision import Provisioned
from ops.backfill_list_keys import TokenBucket, backfill
from paygate import clock
from paygate.api_requests import PayproPaymentRequest
from paygate.domain import (
    Cause,
    Kind,
    Method,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    WebhookOutcome,
    payment_for,
)
from paygate.ledger import Ledger
from paygate.records import WebhookRecord
from paygate.repository import PaymentRepository, to_item
from paygate.shards import LEGACY_RECONCILE_DUE, reconcile_due_partition
from paygate.table_items import (
    CREATED_SHARD_KEY,
    LISTED_AT,
    REFERENCE_KEY,
    STATUS_KEY,
    STATUS_SHARD_KEY,
    created_shard_key,
    payment_document,
    status_shard_key,
)
from paygate.transition import forward

from .conftest import Api

# What the versions before wrote: none of the list keys; or the list keys before sharding.
BEFORE_LIST_KEYS = (LISTED_AT, REFERENCE_KEY, STATUS_KEY, CREATED_SHARD_KEY, STATUS_SHARD_KEY)
BEFORE_SHARDS = (CREATED_SHARD_KEY, STATUS_SHARD_KEY)


def store_as_before(
    aws: Provisioned,
    reference: str,
    kind: Kind = Kind.PAYMENT,
    without: tuple[str, ...] = BEFORE_LIST_KEYS,
) -> str:
    """A payment item as an older version wrote it: without `without`, and (while it is still
    queried) in the legacy `due` partition of the reconcile schedule."""
    payment = payment_for(Provider.PAYPRO, PayproPaymentRequest(amount=50_000,
                          merchant_reference=reference))  # fmt: skip
    if kind is Kind.PAYOUT:
        payment = payment.model_copy(update={"id": "po_" + payment.id[4:], "kind": kind})
    document = {k: v for k, v in payment_document(payment).items() if k not in without}
    document.pop("history", None)
    document["reconcile_due"] = LEGACY_RECONCILE_DUE
    boto3.client("dynamodb").put_item(TableName=aws.refs["PaymentsTable"], Item=to_item(document))
    return payment.id


def listed(api: Api, path: str, **query: str) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        arguments = "&".join(f"{k}={v}" for k, v in {**query, "limit": "100"}.items())
        page = api.answer(
            200, "GET", f"{path}?{arguments}" + (f"&cursor={cursor}" if cursor else "")
        )
        ids += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


def item(aws: Provisioned, payment_id: str) -> dict[str, Any]:
    key = {"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": "PAYMENT"}}
    answer = boto3.client("dynamodb").get_item(TableName=aws.refs["PaymentsTable"], Key=key)
    return dict(answer["Item"])


def test_old_payments_are_listed_after_the_backfill_and_a_rerun_changes_nothing(
    api: Api, aws: Provisioned
) -> None:
    oldest = store_as_before(aws, "order-old")
    payout = store_as_before(aws, "order-old", Kind.PAYOUT)
    unsharded = store_as_before(aws, "order-unsharded", without=BEFORE_SHARDS)
    assert listed(api, "/v1/payments") == []  # in none of the sharded indexes yet
    assert listed(api, "/v1/payments", merchant_reference="order-old") == []
    report = backfill(aws.refs["PaymentsTable"], segments=3)
    assert (report.updated, report.due_moved, report.changed_meanwhile) == (3, 3, 0)
    assert sorted(listed(api, "/v1/payments")) == sorted([oldest, unsharded])
    assert listed(api, "/v1/payments", status="created") == listed(api, "/v1/payments")
    assert listed(api, "/v1/payments", merchant_reference="order-old") == [oldest]
    assert listed(api, "/v1/payouts") == [payout]
    assert listed(api, "/v1/payouts", status="created") == [payout]
    for payment_id in (oldest, payout, unsharded):  # out of the legacy schedule partition
        assert item(aws, payment_id)["reconcile_due"]["S"] == reconcile_due_partition(payment_id)
    again = backfill(aws.refs["PaymentsTable"], segments=3)
    assert (again.updated, again.changed_meanwhile) == (0, 0)


def test_a_payment_that_changed_meanwhile_keeps_the_ledgers_keys_and_a_rerun_ends_it(
    api: Api, aws: Provisioned
) -> None:
    table = aws.refs["PaymentsTable"]
    payment_id = store_as_before(aws, "order-racing")
    client = boto3.client("dynamodb")
    stale_read: dict[str, Any] = {}

    class ReadThenRace:
        """The backfill's client: the ledger changes the payment right after the scan."""

        def scan(self, **request: Any) -> Any:
            return client.scan(**request)

        def update_item(self, **request: Any) -> Any:
            if not stale_read:
                stale_read.update(request)
                repository = PaymentRepository(table, timedelta(days=1))
                current = repository.get(payment_id)
                assert current is not None
                pending = ProviderUpdate(status=PaymentStatus.PENDING)
                Ledger(repository).apply(current, pending, Cause.RECONCILIATION)
            return client.update_item(**request)

    report = backfill(table, ReadThenRace(), segments=1)
    assert (report.updated, report.changed_meanwhile) == (0, 1)
    stored = item(aws, payment_id)
    assert stored[STATUS_KEY]["S"] == "payment#pending" and stored["status"]["S"] == "pending"
    assert stored[STATUS_SHARD_KEY]["S"].startswith("payment#pending#")  # the ledger's
    assert Method.VIETQR.value == stored["method"]["S"]
    assert backfill(table, segments=1).updated == 0  # the ledger's write had every key
    assert listed(api, "/v1/payments", status="pending") == [payment_id]


def test_a_stopped_run_resumes_from_its_state_file(
    api: Api, aws: Provisioned, tmp_path: Path
) -> None:
    table = aws.refs["PaymentsTable"]
    stored = {store_as_before(aws, f"order-{n}") for n in range(30)}
    client = boto3.client("dynamodb")
    writes: list[str] = []

    class StopsAfterTen:
        """The operator's connection drops after ten writes; pages hold 7 items."""

        def scan(self, **request: Any) -> Any:
            return client.scan(**request, Limit=7)

        def update_item(self, **request: Any) -> Any:
            if len(writes) == 10:
                raise ConnectionError("the operator's connection dropped")
            writes.append(request["Key"]["pk"]["S"])
            return client.update_item(**request)

    state = tmp_path / "backfill.json"
    with pytest.raises(ConnectionError):
        backfill(table, StopsAfterTen(), segments=1, state=state)
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert saved["positions"]["0"] not in (None, "done")  # a page's end, not the start
    resumed = backfill(table, client, segments=1, state=state)
    assert resumed.scanned < 30  # the pages done before were not read again
    assert resumed.updated == 30 - len(writes)  # the ten written before are not matched again
    assert json.loads(state.read_text(encoding="utf-8"))["positions"]["0"] == "done"
    assert set(listed(api, "/v1/payments")) == stored
    assert backfill(table, segments=2).updated == 0


class SimulatedClock:
    """Time that passes only when the bucket pauses."""

    def __init__(self) -> None:
        self.now = 0.0
        self.taken: list[float] = []

    def clock(self) -> float:
        return self.now

    def pause(self, seconds: float) -> None:
        self.now += seconds


def test_the_writes_keep_to_the_rate_across_segments(aws: Provisioned) -> None:
    table = aws.refs["PaymentsTable"]
    for n in range(40):
        store_as_before(aws, f"order-paced-{n}")
    time = SimulatedClock()
    bucket = TokenBucket(rate=10, burst=5, clock=time.clock, pause=time.pause)
    client = boto3.client("dynamodb")

    class Timed:
        def scan(self, **request: Any) -> Any:
            return client.scan(**request)

        def update_item(self, **request: Any) -> Any:
            time.taken.append(time.now)
            return client.update_item(**request)

    assert backfill(table, Timed(), segments=4, bucket=bucket).updated == 40
    for start in range(0, 40):  # any window of a second: at most the rate plus the burst
        window = [t for t in time.taken if time.taken[start] <= t < time.taken[start] + 1]
        assert len(window) <= 10 + 5
    assert time.now >= (40 - 5) / 10  # 40 writes at 10 a second after a burst of 5


def test_a_webhooks_blind_write_gives_an_old_payment_its_shards(api: Api, aws: Provisioned) -> None:
    """Dual-write: the in-place update (`transition_update`) sets the status shard and, once,
    the creation shard an item from before the shards lacks."""
    table = aws.refs["PaymentsTable"]
    payment_id = store_as_before(aws, "order-blind", without=BEFORE_SHARDS)
    assert listed(api, "/v1/payments") == []
    repository = PaymentRepository(table, timedelta(days=1))
    move = forward(Provider.PAYPRO, ProviderUpdate(status=PaymentStatus.PENDING))
    callback = WebhookRecord(
        provider=Provider.PAYPRO, dedupe_key="blind-1", payment_id=payment_id,
        outcome=WebhookOutcome.APPLIED, body={},
    )  # fmt: skip
    repository.advance_in_place(payment_id, move, clock.now(), callback)
    stored = item(aws, payment_id)
    assert stored[CREATED_SHARD_KEY]["S"] == created_shard_key(Kind.PAYMENT, payment_id)
    assert stored[STATUS_SHARD_KEY]["S"] == status_shard_key(
        Kind.PAYMENT, PaymentStatus.PENDING, payment_id
    )
    assert listed(api, "/v1/payments") == [payment_id]
    assert listed(api, "/v1/payments", status="pending") == [payment_id]
