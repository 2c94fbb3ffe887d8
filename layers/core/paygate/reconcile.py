"""Scheduled reconciliation: payments and payouts that are still not final are queried at
their provider (the same mapping as webhooks, through the same state machine and outbox) on
a backoff schedule, and expire when the provider's window or the retry budget runs out.

Which payments are due comes from a sparse index: a payment carries `reconcile_at` only while
it is not terminal (`PaymentRepository.due`), so the job never scans the table.
Schedule (Hyperswitch's PSync defaults): first query 60 s after create, then every 5 minutes,
at most `max_attempts` queries; provider windows (providers.md): Smart Glocal holds a payment
for its customer action 60 minutes and for confirmation 240 minutes, the ecommpay platform
waits 30 minutes for a clarification."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from paygate.errors import PaygateError
from paygate.ledger import Ledger
from paygate.models import ClarificationAction, Failure, Payment, Provider, ProviderUpdate, utcnow
from paygate.observability import logger
from paygate.status import PaymentStatus

FIRST_AFTER = timedelta(seconds=60)
EVERY = timedelta(minutes=5)

Refresh = Callable[[Payment], Payment]


@dataclass(frozen=True)
class ReconcilePolicy:
    """How often and how long a payment is queried before it expires."""

    every: timedelta = EVERY
    max_attempts: int = 12

    def window(self, payment: Payment) -> timedelta | None:
        """The provider's own window for the payment's current wait, if it has one."""
        status = payment.status
        if payment.provider is Provider.SMARTGLOCAL:
            if status is PaymentStatus.REQUIRES_CONFIRMATION:
                return timedelta(minutes=240)
            if status is PaymentStatus.REQUIRES_ACTION:
                return timedelta(minutes=60)
        if isinstance(payment.next_action, ClarificationAction):
            return timedelta(minutes=30)
        return None


@dataclass
class ReconcileReport:
    checked: int = 0
    changed: int = 0
    expired: int = 0
    rescheduled: int = 0
    errors: list[str] = field(default_factory=list)


class Reconciler:
    """Queries due payments at their providers; expires the ones nobody will finish."""

    def __init__(
        self,
        ledger: Ledger,
        refreshers: Mapping[Provider, Refresh],
        policy: ReconcilePolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.ledger = ledger
        self.refreshers = refreshers
        self.policy = policy or ReconcilePolicy()
        self.clock = clock

    def run(self, limit: int = 100) -> ReconcileReport:
        report = ReconcileReport()
        now = self.clock()
        for payment in self.ledger.repository.due(now, limit):
            report.checked += 1
            current = self._refresh(payment, report)
            if current.version != payment.version:
                report.changed += 1
            if current.status.is_terminal:
                continue
            attempts = payment.reconcile_attempts + 1
            if attempts >= self.policy.max_attempts or self._past_window(current, now):
                self.ledger.apply(current, _expiry(current, attempts))
                report.expired += 1
                continue
            self.ledger.repository.reschedule(current, now + self.policy.every, attempts)
            report.rescheduled += 1
        logger.info("reconciled", extra={"report": report.__dict__})
        return report

    def _refresh(self, payment: Payment, report: ReconcileReport) -> Payment:
        refresh = self.refreshers.get(payment.provider)
        if refresh is None:
            return payment
        try:
            return refresh(payment)
        except PaygateError as error:  # the provider could not tell: try again later
            report.errors.append(f"{payment.id}: {error.message}")
            logger.warning("status query failed", extra={"payment_id": payment.id})
            return self.ledger.get(payment.id)

    def _past_window(self, payment: Payment, now: datetime) -> bool:
        window = self.policy.window(payment)
        return window is not None and now - payment.updated_at >= window


def _expiry(payment: Payment, attempts: int) -> ProviderUpdate:
    return ProviderUpdate(
        status=PaymentStatus.EXPIRED,
        failure=Failure(
            code="expired",
            message=(
                f"no final answer from {payment.provider.value} after {attempts} status "
                f"queries (the payment was {payment.status.value})"
            ),
        ),
    )
