"""The dispatcher's run (`paygate.dispatch.Dispatcher`) over an in-memory schedule and queue:
it stops leasing while there is time to send what it leased, sends every leased payment once
(ten per SendMessageBatch, to its provider's queue), and a read or lease the table refuses
costs only that payment a minute; `next_due_at` only when nothing was due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from paygate import deadline
from paygate.dispatch import Dispatcher, ReconcileMessage
from paygate.domain import Payment, Provider
from paygate.errors import StorageBusy
from paygate.records import DueEntry
from paygate.shards import reconcile_due_partition, reconcile_due_partitions

NOW = datetime(2026, 12, 11, 12, 0, tzinfo=UTC)


class Schedule:
    """Due entries by partition; leases recorded; some leases refused."""

    def __init__(self, count: int, refused: frozenset[str] = frozenset()) -> None:
        self.due: dict[str, list[DueEntry]] = {p: [] for p in reconcile_due_partitions()}
        for index in range(count):
            payment_id = f"pay_{index:05d}"
            entry = DueEntry(
                payment_id=payment_id,
                provider=list(Provider)[index % 4],
                reconcile_at="2026-12-11T11:59:00Z",
                due_at=NOW - timedelta(minutes=1),
            )
            self.due[reconcile_due_partition(payment_id)].append(entry)
        self.refused = refused
        self.leased: list[str] = []

    def due_page(
        self, partition: str, now: datetime, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[DueEntry], dict[str, Any] | None]:
        offset = int(start["offset"]) if start else 0
        page = self.due[partition][offset : offset + limit]
        more = offset + limit < len(self.due[partition])
        return page, ({"offset": offset + limit} if more else None)

    def earliest_due(self, partition: str) -> datetime | None:
        return None

    def lease(self, entry: DueEntry, lease_id: str, now: datetime, until: datetime) -> bool:
        if entry.payment_id in self.refused:
            raise StorageBusy("the payments table is busy; retry")
        self.leased.append(entry.payment_id)
        return True

    def claim(self, *_: Any) -> Payment | None:
        raise AssertionError("the dispatcher never claims")


class Queues:
    def __init__(self) -> None:
        self.sent: dict[str, list[ReconcileMessage]] = {}
        self.calls = 0

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> Any:
        assert len(Entries) <= 10
        self.calls += 1
        messages = [ReconcileMessage.model_validate_json(e["MessageBody"]) for e in Entries]
        self.sent.setdefault(QueueUrl, []).extend(messages)
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def dispatcher(schedule: Schedule, queues: Queues) -> Dispatcher:
    urls = {provider: f"queue-{provider.value}" for provider in Provider}
    return Dispatcher(schedule, urls, clock=lambda: NOW, client=queues)


def test_every_due_payment_is_leased_and_sent_once_to_its_providers_queue() -> None:
    schedule, queues = Schedule(95), Queues()
    report = dispatcher(schedule, queues).run(limit=1000)
    assert (report.due, report.leased, report.sent, report.errors) == (95, 95, 95, 0)
    sent = [m for messages in queues.sent.values() for m in messages]
    assert sorted(m.payment_id for m in sent) == sorted(schedule.leased)
    for url, messages in queues.sent.items():
        assert {f"queue-{m.provider.value}" for m in messages} == {url}
    assert "next_due_at" not in report.answer()


@settings(max_examples=30, deadline=None)
@given(count=st.integers(0, 120), allowed=st.integers(0, 200))
def test_leasing_stops_at_the_deadline_and_what_was_leased_is_sent(
    count: int, allowed: int
) -> None:
    """Whenever the deadline says no (after any number of checks), no more leases start, and
    every payment leased before is sent: none waits for its lease to run out."""
    left = [allowed]

    def allows(seconds: float) -> bool:
        left[0] -= 1
        return left[0] >= 0

    schedule, queues = Schedule(count), Queues()
    with patch.object(deadline, "allows", allows):
        report = dispatcher(schedule, queues).run(limit=1000)
    sent = sorted(m.payment_id for messages in queues.sent.values() for m in messages)
    assert sent == sorted(schedule.leased)
    assert report.leased == len(schedule.leased) == report.sent
    assert len(schedule.leased) <= allowed  # each lease only after the deadline allowed it
    if len(schedule.leased) < count:
        assert report.deferred >= 1 and "next_due_at" not in report.answer()


def test_a_refused_lease_costs_only_that_payment() -> None:
    schedule, queues = Schedule(40, refused=frozenset({"pay_00003", "pay_00017"})), Queues()
    report = dispatcher(schedule, queues).run(limit=1000)
    assert (report.leased, report.errors, report.sent) == (38, 2, 38)
    assert "next_due_at" not in report.answer()  # the refused ones are due: look again soon


def test_nothing_due_answers_when_something_is_next() -> None:
    report = dispatcher(Schedule(0), Queues()).run(limit=1000)
    assert report.answer()["next_due_at"] is None and report.due == 0
