"""Reconciliation that fans out: a dispatcher finds the payments due for a status query across
the schedule's shards, leases each one, and sends it to its provider's SQS queue; workers (the
queues' event source mappings, at most `MaximumConcurrency` each) claim each leased payment
and settle it with `paygate.reconcile.Reconciler.settle_leased` (the sequential job's own
per-payment logic). A slow or silent provider fills only its own queue.

The numbers (template.yaml holds the same; docs/reliability.md explains them):
- a worker runs at most `WORKER_TIMEOUT_SECONDS` (30 s); a batch's payments are settled in
  parallel, each inside the deadline (`paygate.deadline`);
- a queue's visibility timeout is `VISIBILITY_TIMEOUT_SECONDS` = 6 x the worker's timeout (AWS's
  advice for SQS event sources): a message whose worker failed returns after it, and goes to
  the queue's DLQ after `MAX_RECEIVES` receives;
- a lease lasts `LEASE_SECONDS` (≥ the visibility timeout): while it runs no dispatcher leases
  the payment again; when a worker crashed (or its message went to the DLQ) the payment is due
  again when the lease runs out. A worker's claim holds it `WORKER_TIMEOUT_SECONDS`, so two
  deliveries of one message (SQS is at least once) never query the provider at once.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from paygate import aws_clients, deadline
from paygate.domain import Payment, Provider, utcnow
from paygate.errors import PaygateError
from paygate.observability import logger
from paygate.records import DueEntry
from paygate.shards import reconcile_due_partitions

if TYPE_CHECKING:
    from paygate.reconcile import Reconciler, ReconcileReport

WORKER_TIMEOUT_SECONDS = 30
VISIBILITY_TIMEOUT_SECONDS = 6 * WORKER_TIMEOUT_SECONDS
LEASE_SECONDS = 600
MAX_RECEIVES = 5
# A dispatcher run reads each partition in pages of `PAGE` and stops leasing with
# `DISPATCH_RESERVE_SECONDS` of its deadline left (what it leased is sent before it ends).
PAGE = 500
DISPATCH_RESERVE_SECONDS = 5.0
SEND_BATCH = 10  # SendMessageBatch's maximum
# A worker's status query waits at most 1 s to connect and 3 s for the answer, without retries
# (a failed query decides nothing: the schedule asks again): a provider that does not answer
# holds a worker 4 s per batch, so `ReconcileMaxConcurrency` (100) workers keep its queue moving
# (docs/performance.md, "Reconciliation"). Lower settings (the tests') are kept.
QUERY_CONNECT_TIMEOUT_SECONDS = 1.0
QUERY_READ_TIMEOUT_SECONDS = 3.0
# A worker starts a message's payment only with this much of its deadline left: the query's
# timeouts and the writes around it (a Smart Glocal cancel at the window's end is one more call).
SECONDS_PER_MESSAGE = 10.0


class ReconcileMessage(BaseModel):
    """One leased payment, as its provider's queue carries it."""

    payment_id: str
    provider: Provider
    lease_id: str
    due_at: datetime


class Schedule(Protocol):
    """What the dispatcher and the workers need of `paygate.repository.PaymentRepository`."""

    def due_page(
        self, partition: str, now: datetime, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[DueEntry], dict[str, Any] | None]: ...

    def earliest_due(self, partition: str) -> datetime | None: ...

    def lease(self, entry: DueEntry, lease_id: str, now: datetime, until: datetime) -> bool: ...

    def claim(
        self, payment_id: str, lease_id: str, now: datetime, held_until: datetime, until: datetime
    ) -> Payment | None: ...


@dataclass
class DispatchReport:
    due: int = 0  # due entries read
    leased: int = 0
    taken: int = 0  # leased or settled by someone else meanwhile
    sent: int = 0
    unsent: int = 0  # SQS refused them: the lease runs out, the next run sends them again
    deferred: int = 0  # partitions left unfinished at the deadline
    errors: int = 0  # reads or leases the table refused (busy, no time): they stay due
    by_provider: dict[str, int] = field(default_factory=dict)
    next_due_at: str | None = None

    def answer(self) -> dict[str, Any]:
        """The handler's answer. `next_due_at` (when the earliest payment is next due; the
        local runtime skips idle ticks until then) only when nothing was due: leased payments
        are rescheduled by their workers."""
        document = dict(self.__dict__)
        if self.due or self.deferred or self.errors:
            document.pop("next_due_at")
        return document


def in_threads[T, R](fn: Callable[[T], R], items: list[T], threads: int) -> list[R]:
    """`fn` over `items` in up to `threads` threads, each in a copy of the caller's context
    (the invocation's deadline is a context variable), results in order."""
    if not items:
        return []
    contexts = [contextvars.copy_context() for _ in items]
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(items)))) as pool:
        return list(
            pool.map(lambda pair: pair[0].run(fn, pair[1]), zip(contexts, items, strict=True))
        )


class Dispatcher:
    """Leases the due payments of every schedule shard (one thread per shard) and sends them,
    ten per SendMessageBatch, to their provider's queue."""

    def __init__(
        self,
        schedule: Schedule,
        queues: Mapping[Provider, str],
        clock: Callable[[], datetime] = utcnow,
        lease: timedelta = timedelta(seconds=LEASE_SECONDS),
        client: Any = None,
    ) -> None:
        self.schedule = schedule
        self.queues = queues
        self.clock = clock
        self.lease_for = lease
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or aws_clients.client("sqs")

    def run(self, limit: int) -> DispatchReport:
        """Lease and send up to `limit` due payments per shard."""
        now = self.clock()
        partitions = reconcile_due_partitions()
        reports = in_threads(lambda p: self._partition(p, now, limit), partitions, len(partitions))
        report = DispatchReport()
        for part in reports:
            for name in ("due", "leased", "taken", "sent", "unsent", "deferred", "errors"):
                setattr(report, name, getattr(report, name) + getattr(part, name))
            for provider, count in part.by_provider.items():
                report.by_provider[provider] = report.by_provider.get(provider, 0) + count
        if not report.due and not report.deferred and not report.errors:
            try:
                found = in_threads(self.schedule.earliest_due, partitions, len(partitions))
            except PaygateError:  # unknown: the next run looks again
                report.errors += 1
            else:
                earliest = min((moment for moment in found if moment is not None), default=None)
                report.next_due_at = (
                    earliest.isoformat().replace("+00:00", "Z") if earliest else None
                )
        logger.info("dispatched", extra={"report": report.__dict__})
        return report

    def _partition(self, partition: str, now: datetime, limit: int) -> DispatchReport:
        """One shard: its due payments page by page, each leased, batched per provider and
        sent. Leasing stops while there is still time to send what was leased (one AWS attempt
        and `DISPATCH_RESERVE_SECONDS`); what is left stays due for the next run, and a read or
        lease the table refuses costs that payment nothing but a minute."""
        report = DispatchReport()
        waiting: dict[Provider, list[ReconcileMessage]] = {}
        start: dict[str, Any] | None = None
        reserve = DISPATCH_RESERVE_SECONDS + aws_clients.attempt_seconds()
        while report.due < limit:
            if not deadline.allows(reserve):
                report.deferred += 1
                break
            try:
                entries, start = self.schedule.due_page(
                    partition, now, min(PAGE, limit - report.due), start
                )
            except PaygateError as error:
                logger.warning(
                    "due page refused", extra={"partition": partition, "error": error.message}
                )
                report.errors += 1
                break
            report.due += len(entries)
            for entry in entries:
                if not deadline.allows(reserve):
                    report.deferred += 1
                    start = None
                    break
                try:
                    message = self._lease(entry, now)
                except PaygateError as error:
                    logger.warning(
                        "lease refused",
                        extra={"payment_id": entry.payment_id, "error": error.message},
                    )
                    report.errors += 1
                    continue
                if message is None:
                    report.taken += 1
                    continue
                report.leased += 1
                batch = waiting.setdefault(entry.provider, [])
                batch.append(message)
                if len(batch) == SEND_BATCH:
                    self._send(entry.provider, batch, report)
                    batch.clear()
            if start is None:
                break
        for provider, batch in waiting.items():
            if batch:
                self._send(provider, batch, report)
        return report

    def _lease(self, entry: DueEntry, now: datetime) -> ReconcileMessage | None:
        lease_id = uuid.uuid4().hex
        if not self.schedule.lease(entry, lease_id, now, now + self.lease_for):
            return None
        return ReconcileMessage(
            payment_id=entry.payment_id,
            provider=entry.provider,
            lease_id=lease_id,
            due_at=entry.due_at,
        )

    def _send(
        self, provider: Provider, batch: list[ReconcileMessage], report: DispatchReport
    ) -> None:
        entries = [
            {"Id": str(index), "MessageBody": message.model_dump_json()}
            for index, message in enumerate(batch)
        ]
        try:
            answer = self.client.send_message_batch(QueueUrl=self.queues[provider], Entries=entries)
        except Exception as error:  # the leases run out; the next run sends them again
            logger.warning("reconcile queue refused a batch", extra={"error": repr(error)})
            report.unsent += len(batch)
            return
        failed = len(answer.get("Failed") or [])
        report.unsent += failed
        report.sent += len(batch) - failed
        report.by_provider[provider.value] = (
            report.by_provider.get(provider.value, 0) + len(batch) - failed
        )


@dataclass(frozen=True)
class Settled:
    """What a worker did with one message: the settle's report (None: the payment was not
    claimed, another lease or worker has it or it was settled) and the lag, due → settled."""

    report: ReconcileReport | None
    lag_seconds: float | None


class Worker:
    """Settles one leased payment per message."""

    def __init__(
        self,
        reconciler: Reconciler,
        schedule: Schedule,
        lease: timedelta = timedelta(seconds=LEASE_SECONDS),
        hold: timedelta = timedelta(seconds=WORKER_TIMEOUT_SECONDS),
    ) -> None:
        self.reconciler = reconciler
        self.schedule = schedule
        self.lease_for = lease
        self.hold = hold

    def handle(self, message: ReconcileMessage) -> Settled:
        """Claim the message's payment under its lease and settle it (raises what the settle
        raises: the message then returns after the visibility timeout)."""
        now = self.reconciler.clock()
        payment = self.schedule.claim(
            message.payment_id, message.lease_id, now, now + self.hold, now + self.lease_for
        )
        if payment is None:
            return Settled(None, None)
        report = self.reconciler.settle_leased(payment)
        lag = (self.reconciler.clock() - message.due_at).total_seconds()
        return Settled(report, max(0.0, lag))
