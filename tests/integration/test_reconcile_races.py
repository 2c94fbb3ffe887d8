"""A worker's reschedule that loses to a write made meanwhile (a webhook moving the payment on
while its status query ran) on moto: the payment is still due at the time the query decided,
not when the worker's lease runs out (`LEASE_SECONDS`); a payment that
a webhook made final meanwhile keeps what that write decided."""

from __future__ import annotations

from datetime import timedelta

from local.aws.provision import Provisioned
from paygate import wiring
from paygate.dispatch import LEASE_SECONDS, ReconcileMessage, Worker
from paygate.domain import (
    Cause,
    Kind,
    Method,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    utcnow,
)
from paygate.ledger import Ledger
from paygate.lifecycle import Observation
from paygate.reconcile import Reconciler
from paygate.records import DueEntry
from paygate.settings import ReconcileSettings, load_settings


def ledger() -> Ledger:
    return wiring.ledger(load_settings(ReconcileSettings))


def waiting(payment_id: str) -> Payment:
    """A VietQR payin waiting for its shopper, created 5 minutes ago: due for a query."""
    created = utcnow() - timedelta(minutes=5)
    return Payment(
        id=payment_id, kind=Kind.PAYMENT, provider=Provider.PAYPRO, method=Method.VIETQR,
        status=PaymentStatus.REQUIRES_ACTION, amount=50_000, merchant_reference=f"o-{payment_id}",
        provider_reference=f"ref-{payment_id}", created_at=created, updated_at=created,
    )  # fmt: skip


def leased(books: Ledger, payment_id: str) -> ReconcileMessage:
    """The payment leased as the dispatcher leases it: its message."""
    now = utcnow()
    entry = DueEntry(
        payment_id=payment_id,
        provider=Provider.PAYPRO,
        reconcile_at="",
        due_at=now,
    )
    until = now + timedelta(seconds=LEASE_SECONDS)
    assert books.repository.lease(entry, "lease-1", now, until)
    return ReconcileMessage(
        payment_id=payment_id, provider=Provider.PAYPRO, lease_id="lease-1", due_at=now
    )


def worker_meeting(books: Ledger, update: ProviderUpdate) -> Worker:
    """A worker whose status query finds the payment unchanged at Paypro, while a webhook
    applies `update` to it (after the query read it, before the worker reschedules)."""

    def observe(payment: Payment) -> Observation:
        books.apply(books.get(payment.id), update, Cause.WEBHOOK)
        return Observation(payment)

    return Worker(Reconciler(books, {Provider.PAYPRO: observe}), books.repository)


def test_a_reschedule_lost_to_a_webhook_is_made_again_on_the_fresh_payment(
    aws: Provisioned,
) -> None:
    books = ledger()
    books.repository.create(waiting("pay_race_resched"))
    message = leased(books, "pay_race_resched")
    started = utcnow()
    moving = ProviderUpdate(status=PaymentStatus.PROCESSING)
    settled = worker_meeting(books, moving).handle(message)
    assert settled.report is not None and settled.report.rescheduled == 1
    stored = books.get("pay_race_resched")
    assert stored.status is PaymentStatus.PROCESSING  # the webhook's change stands
    assert stored.reconcile_at is not None
    lease_end = started + timedelta(seconds=LEASE_SECONDS)
    # due again on the backoff the query decided (minutes), not when the lease runs out
    assert stored.reconcile_at < lease_end - timedelta(minutes=1)


def test_a_payment_made_final_meanwhile_keeps_what_its_change_decided(
    aws: Provisioned,
) -> None:
    books = ledger()
    books.repository.create(waiting("pay_race_final"))
    message = leased(books, "pay_race_final")
    paid = ProviderUpdate(status=PaymentStatus.SUCCEEDED, amount_received=50_000)
    settled = worker_meeting(books, paid).handle(message)
    assert settled.report is not None and settled.report.rescheduled == 0
    stored = books.get("pay_race_final")
    assert stored.status is PaymentStatus.SUCCEEDED
    assert stored.reconcile_at is None  # out of the schedule, as the final change left it
