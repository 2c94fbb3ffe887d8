"""The fan-out's guarantees on moto: a due payment is leased by one dispatcher only; a message
delivered twice is settled by one worker at a time; a lease that runs out (a crashed worker, a
lost message) makes the payment due again, its lag still counted from its first due time; a
batch's failed message alone returns to its queue, after the visibility timeout on the local
clock; a message that keeps failing goes to its DLQ after the redrive policy's receives."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.aws.apigw import FakeLambdaContext
from local.aws.clock import LocalClock
from local.aws.provision import Provisioned
from local.aws.queues import QueuePoller, sqs_event
from local.aws.template import load_template
from paygate import wiring
from paygate.dispatch import (
    LEASE_SECONDS,
    MAX_RECEIVES,
    VISIBILITY_TIMEOUT_SECONDS,
    WORKER_TIMEOUT_SECONDS,
    ReconcileMessage,
)
from paygate.domain import Kind, Method, Payment, PaymentStatus, Provider, utcnow
from paygate.errors import StorageBusy
from paygate.reconcile import Reconciler
from paygate.repository import PaymentRepository
from paygate.settings import ReconcileSettings, load_settings

from .conftest import GatewayTime
from .reconcile_support import FanOut


def repository() -> PaymentRepository:
    return wiring.ledger(load_settings(ReconcileSettings)).repository


def payout(payment_id: str, provider: Provider = Provider.ECOMMPAY) -> Payment:
    """A payout in motion, created 5 minutes ago: due for its first status query."""
    created = utcnow() - timedelta(minutes=5)
    return Payment(
        id=payment_id, kind=Kind.PAYOUT, provider=provider, method=Method.NAPAS_ATM,
        status=PaymentStatus.PROCESSING, amount=150_000, merchant_reference=f"o-{payment_id}",
        provider_reference=f"req-{payment_id}", created_at=created, updated_at=created,
    )  # fmt: skip


def queued(fan: FanOut) -> list[ReconcileMessage]:
    return [ReconcileMessage.model_validate_json(m["Body"]) for _, m in fan.messages()]


def test_a_config_of_numbers_that_hold_together() -> None:
    """Visibility timeout 6 x the worker's timeout, the lease at least the visibility timeout,
    and template.yaml says the same."""
    assert VISIBILITY_TIMEOUT_SECONDS == 6 * WORKER_TIMEOUT_SECONDS
    assert LEASE_SECONDS >= VISIBILITY_TIMEOUT_SECONDS
    template = load_template()
    assert template.resources["ReconcileFunction"]["Properties"]["Timeout"] == (
        WORKER_TIMEOUT_SECONDS
    )
    for name in ("Paypro", "Smartglocal", "Ecommpay", "Monetix"):
        queue = template.resources[f"Reconcile{name}Queue"]["Properties"]
        assert queue["VisibilityTimeout"] == VISIBILITY_TIMEOUT_SECONDS
        assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES


def test_two_dispatchers_at_once_lease_each_payment_once(aws: Provisioned) -> None:
    ids = [f"po_race_{i}" for i in range(30)]
    for payment_id in ids:
        repository().create(payout(payment_id, list(Provider)[hash(payment_id) % 4]))
    first, second = FanOut(), FanOut()
    barrier = threading.Barrier(2)

    def dispatch(fan: FanOut) -> None:
        barrier.wait()
        fan.dispatch()

    threads = [threading.Thread(target=dispatch, args=(fan,)) for fan in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert first.dispatched.leased + second.dispatched.leased == len(ids)
    assert first.dispatched.taken + second.dispatched.taken == (
        first.dispatched.due + second.dispatched.due - len(ids)
    )
    assert sorted(m.payment_id for m in queued(first)) == sorted(ids)  # once each


def test_a_message_delivered_twice_is_settled_by_one_worker_at_a_time(
    aws: Provisioned, later: GatewayTime
) -> None:
    repository().create(payout("po_twice"))
    fan = FanOut()
    fan.dispatch()
    (message,) = queued(fan)
    now = utcnow()
    hold, lease = now + timedelta(seconds=30), now + timedelta(seconds=LEASE_SECONDS)
    held = repository().claim(message.payment_id, message.lease_id, now, hold, lease)
    assert held is not None and held.id == "po_twice"
    # the same message again (SQS delivers at least once) while the first worker holds it
    assert repository().claim(message.payment_id, message.lease_id, now, hold, lease) is None
    # that worker crashed: once its hold has passed, the redelivery takes the payment
    later.advance(seconds=31)
    again = utcnow()
    assert repository().claim(message.payment_id, message.lease_id, again, hold, lease)
    # a message of an older lease never does
    assert repository().claim(message.payment_id, "an-old-lease", again, hold, lease) is None


def test_a_lease_that_runs_out_makes_the_payment_due_again(
    aws: Provisioned, later: GatewayTime
) -> None:
    repository().create(payout("po_lost"))
    first = FanOut()
    assert first.dispatch().leased == 1
    (lost,) = queued(first)  # its worker crashed, or the message went to the DLQ
    assert FanOut().dispatch().due == 0  # leased: not due for the lease's length
    later.advance(seconds=LEASE_SECONDS + 1)
    second = FanOut()
    assert second.dispatch().leased == 1
    (again,) = queued(second)
    assert again.lease_id != lost.lease_id
    assert again.due_at == lost.due_at  # the lag counts from the first due time
    assert second.worker.handle(lost).report is None  # the old lease's message: not settled
    settled = second.worker.handle(again)
    assert settled.report is not None and settled.report.checked == 1
    assert settled.lag_seconds is not None and settled.lag_seconds > LEASE_SECONDS
    stored = repository().get("po_lost")
    assert stored is not None and stored.reconcile_at is not None
    assert stored.reconcile_at > utcnow()  # rescheduled by the worker: the lease is over


def test_only_the_failed_message_of_a_batch_is_reported(
    aws: Provisioned, handlers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for payment_id in ("po_batch_ok", "po_batch_busy"):
        repository().create(payout(payment_id))
    fan = FanOut()
    fan.dispatch()
    settle = Reconciler.settle_leased

    def busy_for_one(self: Reconciler, payment: Payment) -> Any:
        if payment.id == "po_batch_busy":
            raise StorageBusy("the payments table is busy; retry")
        return settle(self, payment)

    monkeypatch.setattr(Reconciler, "settle_leased", busy_for_one)
    url = aws.refs["ReconcileEcommpayQueue"]
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    batch = messages["Messages"]
    event = sqs_event(batch, aws.attributes[("ReconcileEcommpayQueue", "Arn")])
    answer = handlers("reconcile").lambda_handler(event, FakeLambdaContext("reconcile"))
    busy = next(m["MessageId"] for m in batch if "po_batch_busy" in m["Body"])
    assert answer == {"batchItemFailures": [{"itemIdentifier": busy}]}
    ok = repository().get("po_batch_ok")
    assert ok is not None and ok.reconcile_attempts == 1  # settled: queried and rescheduled


def poller(aws: Provisioned, handler: Any, clock: LocalClock) -> QueuePoller:
    (source,) = [
        s for s in load_template().queue_sources() if s.queue_id == "ReconcileEcommpayQueue"
    ]
    return QueuePoller(
        source,
        aws.refs[source.queue_id],
        aws.attributes[(source.queue_id, "Arn")],
        VISIBILITY_TIMEOUT_SECONDS,
        handler,
        clock,
    )


def test_the_local_mapping_returns_failures_after_the_visibility_timeout_then_to_the_dlq(
    aws: Provisioned,
) -> None:
    """local/aws/queues.py as Lambda's mapping: a failed message is invisible for the queue's
    visibility timeout on the local clock, then handed over again; after `MAX_RECEIVES`
    receives it is in the DLQ."""
    clock = LocalClock("manual", start=datetime(2026, 1, 1, tzinfo=UTC))
    calls: list[int] = []

    def failing(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(len(event["Records"]))
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}

    mapping = poller(aws, failing, clock)
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=mapping.queue_url, MessageBody="{}")
    assert mapping.drain() == 1
    clock.advance(VISIBILITY_TIMEOUT_SECONDS - 1)
    assert len(calls) == 1  # not visible yet
    clock.advance(1)
    assert len(calls) == 2
    clock.advance(VISIBILITY_TIMEOUT_SECONDS * (MAX_RECEIVES + 1))
    assert len(calls) == MAX_RECEIVES
    dlq = aws.refs["ReconcileEcommpayDLQ"]
    parked = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in parked] == ["{}"]
    assert sqs.receive_message(QueueUrl=mapping.queue_url).get("Messages", []) == []


def test_the_local_mapping_keeps_to_batch_size_and_concurrency(aws: Provisioned) -> None:
    clock = LocalClock("manual", start=datetime(2026, 1, 1, tzinfo=UTC))
    sizes: list[int] = []
    running, most = [0], [0]
    lock = threading.Lock()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with lock:
            sizes.append(len(event["Records"]))
            running[0] += 1
            most[0] = max(most[0], running[0])
        with lock:
            running[0] -= 1
        return {"batchItemFailures": []}

    mapping = poller(aws, handler, clock)
    sqs = boto3.client("sqs")
    for start in range(0, 45, 10):
        entries = [{"Id": str(i), "MessageBody": "{}"} for i in range(start, min(start + 10, 45))]
        sqs.send_message_batch(QueueUrl=mapping.queue_url, Entries=entries)
    assert mapping.drain() == 45
    assert sum(sizes) == 45 and max(sizes) <= mapping.source.batch_size
    assert most[0] <= mapping.source.max_concurrency


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["dispatch", "claim", "crash", "finish", "wait"]),
                  st.integers(0, 700)),
        min_size=1, max_size=12,
    )
)  # fmt: skip
def test_no_two_workers_ever_hold_one_payment(
    aws: Provisioned, later: GatewayTime, steps: list[tuple[str, int]]
) -> None:
    """Any interleaving of dispatcher runs, deliveries (claims), worker crashes, settles and
    waits: at no moment do two live holds exist on one payment."""
    payment_id = f"po_prop_{abs(hash(tuple(steps)))}"
    repository().create(payout(payment_id))
    fan = FanOut()
    messages: list[ReconcileMessage] = []
    holds: list[datetime] = []  # until when each successful claim holds the payment
    for action, seconds in steps:
        now = utcnow()
        if action == "dispatch":
            fan.dispatch()
            messages += [m for m in queued(fan) if m.payment_id == payment_id]
        elif action == "claim" and messages:
            message = messages[seconds % len(messages)]
            hold = now + timedelta(seconds=WORKER_TIMEOUT_SECONDS)
            lease = now + timedelta(seconds=LEASE_SECONDS)
            if repository().claim(payment_id, message.lease_id, now, hold, lease):
                assert all(until <= now for until in holds), "two workers hold the payment"
                holds.append(hold)
        elif action == "finish" and holds and holds[-1] > now:
            current = repository().get(payment_id)
            assert current is not None
            repository().reschedule(current, now + timedelta(seconds=seconds), 1)
            holds[-1] = now  # the worker ended
        elif action == "crash":
            pass  # the holder stops without a word: its hold runs out by time
        later.advance(seconds=seconds if action == "wait" else 1)
