"""Scheduled reconciliation: every payment and payout that is not final is queried at its
provider (the same mapping as webhooks, through the same state machine and outbox) on a
backoff schedule, and settled by the lifecycle policy (`paygate.lifecycle`, docs/lifecycle.md):

- a payment waiting for its customer expires only after its method's window, right after one
  more query, and after cancelling at the provider where it can (Smart Glocal);
- money in motion (`processing`, every payout, a waiting payment the provider says it is
  working on, or one the provider would not cancel) never expires and never fails by time:
  after the provider's whole window it becomes `needs_review` (`provider_silent`); a payout
  fails by time only when every query over that window answered "not found";
- a query that fails (timeout, 5xx, unreadable) changes nothing and decides nothing: the next
  run asks again (on the backoff; a provider silent for its whole window → `needs_review`).

Which payments are due comes from a sparse index (`PaymentRepository.due`), so the job never
scans the table; the run stops early when the invocation's deadline is near (the rest stay due).
In AWS the same per-payment logic runs fanned out (`paygate.dispatch`): a dispatcher leases due
payments into one SQS queue per provider and workers call `settle_leased` for each; `run`, one
sequential loop, remains for tools and as the baseline the fan-out is measured against.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from paygate import deadline
from paygate.domain import (
    Cause,
    Failure,
    Kind,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    utcnow,
)
from paygate.errors import PaygateError, ProviderError
from paygate.ledger import Ledger
from paygate.lifecycle import (
    EXPIRED,
    PROVIDER_NOT_FOUND,
    PROVIDER_SILENT,
    LifecyclePolicy,
    Observation,
    in_motion,
    never_reached,
)
from paygate.observability import logger
from paygate.transition import in_schedule

# Time a payment's settling may need; a run stops starting new ones below it.
SECONDS_PER_PAYMENT = 2.0
# A reschedule that loses to concurrent writes is made again on the fresh payment, this often.
RESCHEDULE_ATTEMPTS = 3


Observe = Callable[[Payment], Observation]
# Cancel at the provider before expiring: the provider's answer, mapped (not applied).
Cancel = Callable[[Payment], ProviderUpdate]


@dataclass
class ReconcileReport:
    checked: int = 0
    changed: int = 0
    expired: int = 0
    silent: int = 0
    rescheduled: int = 0
    tails_ended: int = 0
    destinations_retired: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)
    next_due_at: str | None = None


class Reconciler:
    """Queries due payments at their providers and settles them by the lifecycle policy."""

    def __init__(
        self,
        ledger: Ledger,
        observers: Mapping[Provider, Observe],
        policy: LifecyclePolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        cancellers: Mapping[Provider, Cancel] | None = None,
    ) -> None:
        self.ledger = ledger
        self.observers = observers
        self.policy = policy or LifecyclePolicy()
        self.clock = clock
        self.cancellers = cancellers or {}

    def run(self, limit: int = 100) -> ReconcileReport:
        report = ReconcileReport()
        now = self.clock()
        for payment in self.ledger.repository.due(now, limit):
            if not deadline.allows(SECONDS_PER_PAYMENT):
                report.deferred += 1
                continue
            report.checked += 1
            try:
                self._settle(payment, now, report)
            except PaygateError as error:  # e.g. storage busy: it stays due, the next run retries
                report.errors.append(f"{payment.id}: {error.message}")
                logger.warning("reconcile failed", extra={"payment_id": payment.id})
        due = self.ledger.repository.next_due()
        report.next_due_at = due.isoformat().replace("+00:00", "Z") if due else None
        logger.info("reconciled", extra={"report": report.__dict__})
        return report

    def settle_leased(self, payment: Payment) -> ReconcileReport:
        """Query and settle one payment (a worker's claimed message), as `run` does each due
        payment. A failed provider query is reported and rescheduled; a storage failure
        raises (the message returns to its queue)."""
        report = ReconcileReport(checked=1)
        self._settle(payment, self.clock(), report)
        return report

    # -- one payment -----------------------------------------------------------------------

    def _settle(self, payment: Payment, now: datetime, report: ReconcileReport) -> None:
        if payment.kind is Kind.PAYOUT and payment.status.is_terminal:
            # A final payout is in the schedule only until its destination's retention ends
            # (`Ledger.destination_retention`): no query, its destination is masked.
            report.destinations_retired += self.ledger.retire_destination(payment)
            return
        observation = self._observe(payment, report)
        current = observation.payment if observation else self.ledger.get(payment.id)
        changed = current.version != payment.version
        report.changed += changed
        if current.status.is_terminal:
            if current.status is PaymentStatus.EXPIRED and in_schedule(current):
                self._tail(current, observation, now, report)
            return
        attempts = 0 if changed else payment.reconcile_attempts + 1
        # Since when every query answered "not found": any other outcome ends the streak, a
        # failed query too (it may have hidden the payout's arrival at the provider).
        missing_since = None
        if observation is not None and observation.not_found:
            missing_since = payment.reconcile_not_found_since or now
        working = bool(observation and observation.update and observation.update.provider_working)
        if not (in_motion(current) or working):
            ends = self.policy.wait_ends(current)
            if now < ends:
                at = min(now + self.policy.query_interval(attempts), ends)
                self._next(current, at, report, attempts)
                return
            # "Not found" for an order the provider acknowledged (it gave a reference) cannot
            # tell whether the customer paid: like a failed query, it decides nothing.
            clear = observation is not None and not (
                observation.not_found and current.provider_reference
            )
            # A create that never reached the provider handed the shopper nothing to pay
            # with: it ends at its window whatever the last query could say.
            if (clear or never_reached(current)) and self._end_wait(current, report):
                return
            if not clear and now < self.policy.motion_ends(current):
                # Only the provider's answer keeps the payment from expiring now: ask again
                # soon, not on the wait's backoff (32 minutes after a 30-minute window), after
                # as long as the window has been over (at least `first_query_after`), so a
                # provider that stays silent is asked on a backoff of its own.
                since = max(self.policy.first_query_after, now - ends)
                at = min(now + since, self.policy.motion_ends(current))
                self._next(current, at, report, attempts, missing_since)
                return
            # The last query failed (the provider could not tell), or the provider would not
            # cancel (it may be taking the payment now): nothing is decided by time. Follow it
            # as money in motion from here on; a later clear answer still ends the wait.
        ends = self.policy.motion_ends(current)
        if now >= ends:
            self._end_motion(current, missing_since, now, report)
            return
        at = min(now + self.policy.query_interval(attempts), ends)
        self._next(current, at, report, attempts, missing_since)

    def _observe(self, payment: Payment, report: ReconcileReport) -> Observation | None:
        observe = self.observers.get(payment.provider)
        if observe is None:
            return Observation(payment)
        try:
            return observe(payment)
        except PaygateError as error:  # the provider could not tell: try again later
            report.errors.append(f"{payment.id}: {error.message}")
            logger.warning("status query failed", extra={"payment_id": payment.id})
            return None

    def _end_wait(self, payment: Payment, report: ReconcileReport) -> bool:
        """The wait is over: cancel at the provider where it can, then expire. False when the
        provider would not cancel (the payment is then followed as money in motion)."""
        cancel = self.cancellers.get(payment.provider)
        note = ""
        if cancel is not None and payment.provider_reference:  # else nothing to cancel by
            try:
                answer = cancel(payment)
            except ProviderError as error:
                report.errors.append(f"{payment.id}: cancel failed: {error.message}")
                if not error.definitive:  # unknown: ask again soon
                    self._next(payment, self.clock() + self.policy.first_query_after, report)
                    return True
                return False
            if answer.status not in (PaymentStatus.CANCELLED, PaymentStatus.EXPIRED):
                settled = self.ledger.apply(
                    payment, answer, Cause.RECONCILIATION
                )  # e.g. it was paid meanwhile
                return settled.status.is_terminal
            note = f"; cancelled at {payment.provider.value}"
        window = self.policy.waits.for_payment(payment)
        minutes = int(window.total_seconds() // 60)
        expiry = ProviderUpdate(
            status=PaymentStatus.EXPIRED,
            failure=Failure(
                code=EXPIRED,
                message=(
                    f"the customer did not complete the payment within {minutes} minutes "
                    f"(it was {payment.status.value}){note}"
                ),
            ),
        )
        # The tail: the provider may still take the money (docs/lifecycle.md rule 9).
        tail = self.clock() + self.policy.tail_interval(0)
        self.ledger.apply(payment, expiry, Cause.RECONCILIATION, schedule_at=tail)
        report.expired += 1
        return True

    def _tail(
        self,
        payment: Payment,
        observation: Observation | None,
        now: datetime,
        report: ReconcileReport,
    ) -> None:
        """One query of the tail after the gateway's own expiry (its answer, applied by the
        observer, turned a late payment into `needs_review` / `paid_after_expiry`). The tail
        ends at its end with a clear answer; a failed query, or "not found" for an order the
        provider acknowledged, decides nothing: it is asked again, at most 6 hours later. A
        provider still working on it (the platform's `processing`: money may be moving) keeps
        the tail going for the provider's whole motion window, then a person must look."""
        ends = self.policy.tail_ends(payment)
        update = observation.update if observation is not None else None
        if update is not None and update.provider_working:
            ends = max(ends, payment.updated_at + self.policy.motion.for_provider(payment.provider))
            if now >= ends:
                window = self.policy.motion.for_provider(payment.provider)
                silent = ProviderUpdate(
                    status=PaymentStatus.NEEDS_REVIEW,
                    failure=Failure(
                        code=PROVIDER_SILENT,
                        message=(
                            f"{payment.provider.value} was still working on the payment "
                            f"{_days(window)} after it expired; money may have moved"
                        ),
                    ),
                )
                self.ledger.apply(payment, silent, Cause.RECONCILIATION)
                report.silent += 1
                return
        clear = observation is not None and not (
            observation.not_found and payment.provider_reference
        )
        working = update is not None and update.provider_working
        if now >= ends and not working and (clear or payment.provider_reference is None):
            self.ledger.repository.end_schedule(payment)
            report.tails_ended += 1
            return
        attempts = payment.reconcile_attempts + 1
        at = now + self.policy.tail_interval(attempts)
        self._next(payment, min(at, ends) if now < ends else at, report, attempts)

    def _end_motion(
        self,
        payment: Payment,
        missing_since: datetime | None,
        now: datetime,
        report: ReconcileReport,
    ) -> None:
        window = self.policy.motion.for_provider(payment.provider)
        # "Not found" from the first query (within its schedule's slack) to the window's end,
        # and never identified by the provider: the payout was never sent.
        spans = missing_since is not None and (
            now - missing_since >= window - 2 * self.policy.first_query_after
        )
        never_seen = payment.kind is Kind.PAYOUT and payment.provider_reference is None
        if never_seen and spans:
            outcome = ProviderUpdate(
                status=PaymentStatus.FAILED,
                failure=Failure(
                    code=PROVIDER_NOT_FOUND,
                    message=(
                        f"{payment.provider.value} answered every status query over "
                        f"{_days(window)} that it does not know this payout: it was never sent"
                    ),
                ),
            )
        else:
            outcome = ProviderUpdate(
                status=PaymentStatus.NEEDS_REVIEW,
                failure=Failure(
                    code=PROVIDER_SILENT,
                    message=(
                        f"{payment.provider.value} gave no final answer within its {_days(window)}"
                        f" window (the {payment.kind.value} is {payment.status.value}); money "
                        "may have moved: check with the provider and decide"
                    ),
                ),
            )
        self.ledger.apply(payment, outcome, Cause.RECONCILIATION)
        report.silent += outcome.status is PaymentStatus.NEEDS_REVIEW

    def _next(
        self,
        payment: Payment,
        at: datetime,
        report: ReconcileReport,
        attempts: int | None = None,
        missing_since: datetime | None = None,
    ) -> None:
        """Set the next query at `at`. A reschedule lost to a write that came meanwhile (a
        webhook moving the payment on, say) is made again on the payment as it is now, as it
        would have stood had that write come a moment later: otherwise the payment would wait
        until its worker's lease ran out (`paygate.dispatch.LEASE_SECONDS`). Not when it left
        the schedule or reached another final status (that write set its own schedule)."""
        count = payment.reconcile_attempts + 1 if attempts is None else attempts
        repository = self.ledger.repository
        current = payment
        for _ in range(RESCHEDULE_ATTEMPTS):
            if repository.reschedule(current, at, count, missing_since):
                report.rescheduled += 1
                return
            found = repository.get(payment.id)
            if found is None or not in_schedule(found):
                return
            if found.status.is_terminal and found.status is not payment.status:
                return
            current = found
        logger.warning("reschedule lost", extra={"payment_id": payment.id})


def _days(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds >= 86_400:
        return f"{seconds // 86_400} days"
    if seconds >= 3600:
        return f"{seconds / 3600:g} hours"
    return f"{seconds // 60} minutes"
