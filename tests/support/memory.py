"""An in-memory stand-in for `PaymentRepository` (same methods, same conditional-write
semantics: version checks, store-once webhooks, refused in-place advances), so the lifecycle
can be driven through thousands of simulated histories per run. A status change applies the
same `Transition` object the DynamoDB write is generated from (`Transition.admits` is its
condition, `Transition.applied_to` its update), so this model and the table cannot drift;
tests/unit/test_transition_write.py checks the generated expressions against moto."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from paygate.domain import Payment, PaymentStatus, Provider
from paygate.errors import ConcurrentUpdate
from paygate.lifecycle import FIRST_QUERY_AFTER
from paygate.records import WebhookRecord
from paygate.repository import ChangeRefused, DuplicateWebhook
from paygate.transition import Transition, in_schedule


class MemoryRepository:
    """Payments and webhooks in dictionaries; `calls` counts every operation."""

    def __init__(self) -> None:
        self.payments: dict[str, Payment] = {}
        self.webhooks: dict[tuple[str, str], WebhookRecord] = {}
        self.changes: list[tuple[str, PaymentStatus | None, PaymentStatus, int]] = []
        self.calls = 0

    # -- reads ---------------------------------------------------------------------------

    def get(self, payment_id: str) -> Payment | None:
        self.calls += 1
        return self.payments.get(payment_id)

    def find_by_provider_reference(self, provider: Provider, reference: str) -> Payment | None:
        self.calls += 1
        for payment in self.payments.values():
            if payment.provider is provider and payment.provider_reference == reference:
                return payment
        return None

    def _due_at(self, payment: Payment) -> datetime:
        return payment.reconcile_at or payment.created_at + FIRST_QUERY_AFTER

    def due(self, now: datetime, limit: int) -> list[Payment]:
        self.calls += 1
        waiting = [p for p in self.payments.values() if in_schedule(p)]
        ready = sorted((p for p in waiting if self._due_at(p) <= now), key=self._due_at)
        return ready[:limit]

    def next_due(self) -> datetime | None:
        self.calls += 1
        times = [self._due_at(p) for p in self.payments.values() if in_schedule(p)]
        return min(times) if times else None

    # -- writes --------------------------------------------------------------------------

    def create(self, payment: Payment) -> None:
        self.calls += 1
        assert payment.id not in self.payments
        self.payments[payment.id] = payment
        self.changes.append((payment.id, None, payment.status, payment.version))

    def reschedule(
        self,
        payment: Payment,
        at: datetime,
        attempts: int,
        not_found_since: datetime | None = None,
    ) -> bool:
        self.calls += 1
        current = self.payments.get(payment.id)
        if current is None or current.version != payment.version or not in_schedule(current):
            return False
        self.payments[payment.id] = current.model_copy(
            update={
                "reconcile_at": at,
                "reconcile_attempts": attempts,
                "reconcile_not_found_since": not_found_since,
            }
        )
        return True

    def end_schedule(self, payment: Payment) -> bool:
        self.calls += 1
        current = self.payments.get(payment.id)
        if current is None or current.version != payment.version:
            return False
        self.payments[payment.id] = current.model_copy(
            update={
                "reconcile_at": None,
                "reconcile_attempts": 0,
                "reconcile_not_found_since": None,
            }
        )
        return True

    def save_change(
        self,
        previous: Payment,
        transition: Transition,
        now: datetime,
        webhook: WebhookRecord | None = None,
    ) -> Payment:
        """The repository's write after a read: the version read, and what the transition
        admits (`Transition.admits`, the ConditionExpression's source)."""
        self.calls += 1
        self._check_new(webhook)
        current = self.payments.get(previous.id)
        if current is None or current.version != previous.version:
            raise ConcurrentUpdate(f"payment {previous.id} changed meanwhile")
        if not transition.admits(current):
            raise ConcurrentUpdate(f"payment {previous.id} changed meanwhile")
        return self._store(current, transition, now, webhook)

    def advance_in_place(
        self, payment_id: str, transition: Transition, now: datetime, webhook: WebhookRecord
    ) -> None:
        """The repository's write without a read: only what the transition admits."""
        self.calls += 1
        self._check_new(webhook)
        current = self.payments.get(payment_id)
        if current is None or not transition.admits(current):
            raise ChangeRefused(current)
        self._store(current, transition, now, webhook)

    def _check_new(self, webhook: WebhookRecord | None) -> None:
        if webhook is not None and (webhook.provider.value, webhook.dedupe_key) in self.webhooks:
            raise DuplicateWebhook(webhook.dedupe_key)

    def _store(
        self, current: Payment, transition: Transition, now: datetime, webhook: WebhookRecord | None
    ) -> Payment:
        if webhook is not None:
            self.webhooks[(webhook.provider.value, webhook.dedupe_key)] = webhook
        updated = transition.applied_to(current, now)
        self.payments[updated.id] = updated
        self.changes.append((updated.id, current.status, updated.status, updated.version))
        return updated

    def record_webhook(self, webhook: WebhookRecord) -> None:
        self.calls += 1
        if (webhook.provider.value, webhook.dedupe_key) in self.webhooks:
            raise DuplicateWebhook(webhook.dedupe_key)
        self.webhooks[(webhook.provider.value, webhook.dedupe_key)] = webhook


class ManualClock:
    """Time that moves only when told."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def run_schedule(
    repository: MemoryRepository, clock: ManualClock, run: Callable[[], object], delta: timedelta
) -> None:
    """EventBridge's rate(1 minute) over `delta` of simulated time: `run` (the reconcile job)
    at each minute a payment is due, idle ticks skipped."""
    end = clock() + delta
    while True:
        due = repository.next_due()
        if due is None or due > end:
            break
        tick = due.replace(second=0, microsecond=0)
        tick += timedelta(minutes=1) if tick < due else timedelta()
        clock.now = max(clock.now, tick)
        run()
    clock.now = max(clock.now, end)
