"""The payment lifecycle every provider shares: record, apply provider updates through the
state machine, store webhooks exactly once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from paygate.domain import (
    Failure,
    Kind,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    WebhookOutcome,
    utcnow,
)
from paygate.errors import (
    ConcurrentUpdate,
    PaymentNotFound,
    ProviderError,
    ProviderTimeout,
    StorageBusy,
)
from paygate.observability import logger
from paygate.records import WebhookRecord
from paygate.repository import ChangeRefused, DuplicateWebhook, PaymentRepository
from paygate.status import allowed_predecessors, can_transition, late_result_target

PAID_AFTER_EXPIRY = "paid_after_expiry"
LATE_RESULT = "late_result"

MAX_WRITE_ATTEMPTS = 5


def advance(payment: Payment, update: ProviderUpdate, now: datetime) -> Payment | None:
    """The payment after `update`, or None when the update may not change it (stale,
    duplicate or backwards; a `requires_action` payment may get a new next action). A
    reported success for another amount or currency becomes `needs_review`, never
    `succeeded`."""
    target, failure = update.status, update.failure
    received = update.amount_received
    if late_result_target(payment.status, target):
        return _late_result(payment, update, now)
    if target is PaymentStatus.SUCCEEDED:
        wrong_amount = received is not None and received != payment.amount
        wrong_currency = update.currency is not None and update.currency != payment.currency
        if wrong_amount or wrong_currency:
            target = PaymentStatus.NEEDS_REVIEW
            failure = Failure(
                code="amount_mismatch",
                message=(
                    f"provider reported {received if received is not None else payment.amount} "
                    f"{update.currency or payment.currency}, expected {payment.amount} "
                    f"{payment.currency}"
                ),
            )
    if not (can_transition(payment.status, target) or _new_action(payment, target, update)):
        return None
    return payment.model_copy(
        update={
            "status": target,
            "version": payment.version + 1,
            "updated_at": now,
            "provider_reference": update.provider_reference or payment.provider_reference,
            "amount_received": received if received is not None else payment.amount_received,
            "next_action": update.next_action if target is PaymentStatus.REQUIRES_ACTION else None,
            "failure": failure,
        }
    )


def _late_result(payment: Payment, update: ProviderUpdate, now: datetime) -> Payment:
    """A provider reports money moved on a payment that had ended without money: never
    dropped, never silently reversed; a merchant decides (docs/lifecycle.md, the one way out
    of a terminal status)."""
    expired = payment.status is PaymentStatus.EXPIRED
    code = PAID_AFTER_EXPIRY if expired else LATE_RESULT
    reported = update.status.value
    if update.failure is not None and update.status is PaymentStatus.NEEDS_REVIEW:
        reported = f"{reported} ({update.failure.code})"
    failure = Failure(
        code=code,
        message=(
            f"{payment.provider.value} reported the payment {reported} after the gateway had "
            f"ended it as {payment.status.value}; check with the provider and decide"
        ),
        provider_code=update.failure.provider_code if update.failure else None,
        provider_message=update.failure.provider_message if update.failure else None,
    )
    received = update.amount_received
    return payment.model_copy(
        update={
            "status": PaymentStatus.NEEDS_REVIEW,
            "version": payment.version + 1,
            "updated_at": now,
            "provider_reference": update.provider_reference or payment.provider_reference,
            "amount_received": received if received is not None else payment.amount_received,
            "next_action": None,
            "failure": failure,
        }
    )


def _new_action(payment: Payment, target: PaymentStatus, update: ProviderUpdate) -> bool:
    """A payment waiting for the customer may be handed a different next action without a
    status change (e.g. the redirect that follows a clarification)."""
    waiting = payment.status is PaymentStatus.REQUIRES_ACTION is target
    return waiting and update.next_action is not None and update.next_action != payment.next_action


def provider_failure_update(error: ProviderError) -> ProviderUpdate:
    """How a failed provider call leaves the payment: failed when the provider certainly
    refused it; pending (to be reconciled) when the outcome is unknown."""
    if isinstance(error, ProviderTimeout):
        code, status = "provider_timeout", PaymentStatus.PENDING
    elif error.definitive:
        code, status = "provider_declined", PaymentStatus.FAILED
    else:
        code, status = "provider_unavailable", PaymentStatus.PENDING
    failure = Failure(
        code=code,
        message=error.message,
        provider_code=error.provider_code,
        provider_message=error.provider_message,
    )
    return ProviderUpdate(status=status, failure=failure)


@dataclass
class Ledger:
    """Payment records and their transitions, on top of the repository."""

    repository: PaymentRepository
    clock: Callable[[], datetime] = field(default=utcnow)

    def get(self, payment_id: str, kind: Kind | None = None) -> Payment:
        """The payment (or payout) with this id; with `kind`, only one of that kind."""
        payment = self.repository.get(payment_id)
        if payment is None or (kind is not None and payment.kind is not kind):
            raise PaymentNotFound(
                f"no {(kind or Kind.PAYMENT).value} with id {payment_id}", field="id"
            )
        return payment

    def creation(self, payment: Payment) -> dict[str, Any]:
        """The write that records a new payment, for the idempotency record's transaction."""
        return self.repository.creation(payment)

    def start(
        self,
        payment: Payment,
        call_provider: Callable[[Payment], ProviderUpdate],
        *,
        recorded: bool = False,
    ) -> Payment:
        """Record `payment` (unless it was `recorded` already, with its idempotency record),
        ask the provider, and record its answer. A provider failure is recorded on the
        payment first, then re-raised for the API to report."""
        if not recorded:
            self.repository.create(payment)
        try:
            try:
                update = call_provider(payment)
            except ProviderError as error:
                error.payment_id = payment.id
                self._apply(payment, provider_failure_update(error))
                raise
            return self._apply(payment, update)
        except StorageBusy as busy:  # the provider may have acted: name the recorded payment
            busy.payment_id = payment.id
            raise

    def apply(self, payment: Payment, update: ProviderUpdate) -> Payment:
        """Apply a provider answer that is not a webhook (a confirm, cancel or status query):
        the payment after it, or unchanged when it does not move the payment forward."""
        return self._apply(payment, update)

    def _apply(self, payment: Payment, update: ProviderUpdate) -> Payment:
        for _ in range(MAX_WRITE_ATTEMPTS):
            changed = advance(payment, update, self.clock())
            if changed is None:
                return payment
            try:
                self.repository.save_change(payment, changed)
                return changed
            except ConcurrentUpdate:
                payment = self.get(payment.id)
        raise ConcurrentUpdate(f"payment {payment.id} is changing too often; retry")

    def record_unapplied(
        self,
        provider: Provider,
        dedupe_key: str,
        body: dict[str, object],
        *,
        payment_id: str | None = None,
    ) -> WebhookOutcome:
        """Store a verified notification that must change nothing (e.g. a type we do not
        know) exactly once: `stale` (or `unknown_payment` without a payment id), `duplicate`
        when it was stored before."""
        record = WebhookRecord(
            provider=provider,
            dedupe_key=dedupe_key,
            payment_id=payment_id,
            outcome=WebhookOutcome.STALE if payment_id else WebhookOutcome.UNKNOWN_PAYMENT,
            body=dict(body),
        )
        try:
            self.repository.record_webhook(record)
        except DuplicateWebhook:
            return WebhookOutcome.DUPLICATE
        return record.outcome

    def ingest(
        self,
        provider: Provider,
        dedupe_key: str,
        body: dict[str, object],
        update: ProviderUpdate,
        *,
        payment_id: str | None = None,
        provider_reference: str | None = None,
    ) -> WebhookOutcome:
        """Store one verified notification exactly once and apply it if it moves the payment
        forward. Duplicates, stale updates and unknown payments are stored and acknowledged.
        DynamoDB cost: one call when `payment_id` is given and the update applies (or is a
        duplicate); two otherwise."""
        payment: Payment | None = None
        if payment_id:
            # Fast path: one conditional transaction, no read (the common, in-order case).
            record = WebhookRecord(
                provider=provider,
                dedupe_key=dedupe_key,
                payment_id=payment_id,
                outcome=WebhookOutcome.APPLIED,
                body=dict(body),
            )
            target = update.status
            try:
                self.repository.advance_in_place(
                    payment_id, provider, update, allowed_predecessors(target), self.clock(), record
                )
                return WebhookOutcome.APPLIED
            except DuplicateWebhook:
                return WebhookOutcome.DUPLICATE
            except ChangeRefused as refused:
                found = refused.current
                payment = found if found is not None and found.provider is provider else None
        if payment is None and provider_reference:
            payment = self.repository.find_by_provider_reference(provider, provider_reference)
        for _ in range(MAX_WRITE_ATTEMPTS):
            outcome = WebhookOutcome.UNKNOWN_PAYMENT if payment is None else WebhookOutcome.STALE
            changed = advance(payment, update, self.clock()) if payment else None
            record = WebhookRecord(
                provider=provider,
                dedupe_key=dedupe_key,
                payment_id=payment.id if payment else payment_id,
                outcome=WebhookOutcome.APPLIED if changed else outcome,
                body=dict(body),
            )
            try:
                if payment is None or changed is None:
                    self.repository.record_webhook(record)
                    return outcome
                self.repository.save_change(payment, changed, record)
                return WebhookOutcome.APPLIED
            except DuplicateWebhook:
                return WebhookOutcome.DUPLICATE
            except ConcurrentUpdate:
                logger.info("concurrent update, retrying", extra={"payment_id": record.payment_id})
                payment = self.repository.get(str(record.payment_id))
        raise ConcurrentUpdate("payment is changing too often; the provider will retry")
