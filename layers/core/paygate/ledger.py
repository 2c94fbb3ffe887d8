"""The payment lifecycle every provider shares: record, apply provider updates through the
state machine (`paygate.transition`: one decided `Transition`, written as it was decided), store
webhooks exactly once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from paygate.domain import (
    Cause,
    Failure,
    Kind,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    Review,
    ReviewDecision,
    WebhookOutcome,
    kind_of,
    utcnow,
)
from paygate.errors import (
    ConcurrentUpdate,
    InvalidState,
    PaymentNotFound,
    ProviderError,
    ProviderTimeout,
    StorageBusy,
)
from paygate.masking import mask
from paygate.observability import logger, metrics
from paygate.records import WebhookRecord
from paygate.repository import ChangeRefused, DuplicateWebhook, PaymentRepository
from paygate.transition import (
    CONTRADICTED_AFTER_REVIEW,
    Transition,
    decide,
    forward,
    needs_the_payment,
    reviewed,
)

MAX_WRITE_ATTEMPTS = 5
# How many payments of one order a create looks at for its duplicate-reference warning.
ATTEMPTS_LOOKED_AT = 10


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


def raised(transition: Transition, payment: Payment) -> None:
    """A provider contradicted a merchant's review: the `ReviewContradicted` metric (its
    alarm, like `ProviderSilent`'s, asks a person to look) and a warning."""
    failure = transition.failure
    if failure is None or failure.code != CONTRADICTED_AFTER_REVIEW:
        return
    metrics.add_metric(name="ReviewContradicted", unit=MetricUnit.Count, value=1)
    logger.warning(
        "provider contradicted a review",
        extra={"payment_id": payment.id, "status": payment.status.value},
    )


@dataclass
class Ledger:
    """Payment records and their transitions, on top of the repository."""

    repository: PaymentRepository
    clock: Callable[[], datetime] = field(default=utcnow)
    # How long a final payout keeps its whole destination (None: for ever); then the reconcile
    # schedule masks it (`retire_destination`, docs/privacy.md).
    destination_retention: timedelta | None = None

    def _retained(self, transition: Transition, kind: Kind, now: datetime) -> Transition:
        """A payout's transition to a final status (not `needs_review`: a person still has to
        look) keeps the payout in the reconcile schedule until its destination is retired."""
        target = transition.target
        final = target.is_terminal and target is not PaymentStatus.NEEDS_REVIEW
        if kind is not Kind.PAYOUT or not final or self.destination_retention is None:
            return transition
        return replace(transition, schedule_at=now + self.destination_retention)

    def retire_destination(self, payout: Payment) -> bool:
        """Mask a final payout's destination to what a dispute needs (bank, region, and the
        account number, holder and card as `paygate.masking.mask` leaves them) and take it out
        of the reconcile schedule; False when it changed meanwhile."""
        destination = payout.destination
        kept = None
        if destination is not None:
            personal = ("card", "card_holder", "account_number", "account_name")
            kept = destination.model_copy(
                update={
                    name: mask(value)
                    for name in personal
                    if (value := getattr(destination, name)) is not None
                }
            )
        return self.repository.retire_destination(payout, kept)

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

    def reference_claim(self, payout: Payment, *, forced: bool = False) -> dict[str, Any]:
        """The conditional put that makes `payout` its `merchant_reference`'s one payout, for
        the create's transaction: it may replace a holder that ended `failed` (only while that
        one still holds it: two creates cannot both replace it); `forced` (the merchant's
        `allow_duplicate_reference`) takes it whatever holds it."""
        holder = self.repository.reference_holder(payout.merchant_reference)
        replaces = None
        if holder is not None and not forced:
            held = self.repository.get(holder)
            if held is None or held.status is PaymentStatus.FAILED:
                replaces = holder
        return self.repository.reference_claim(payout, replaces, forced=forced)

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
                self.apply(payment, provider_failure_update(error), Cause.CREATE)
                raise
            return self.apply(payment, update, Cause.CREATE)
        except StorageBusy as busy:  # the provider may have acted: name the recorded payment
            busy.payment_id = payment.id
            raise

    def apply(
        self,
        payment: Payment,
        update: ProviderUpdate,
        cause: Cause,
        *,
        schedule_at: datetime | None = None,
    ) -> Payment:
        """Apply a provider answer that is not a webhook (to a merchant's confirm or cancel, a
        status query, the gateway's own confirm or expiry), caused by `cause`: the payment
        after it, or unchanged when it does not move the payment forward. `schedule_at`: an
        expiry keeps the payment in the reconcile schedule (its tail) from then on."""
        for _ in range(MAX_WRITE_ATTEMPTS):
            decided = decide(payment, update)
            if decided is None:
                return payment
            transition = decided.because(cause)
            if schedule_at is not None and transition.target is PaymentStatus.EXPIRED:
                transition = replace(transition, schedule_at=schedule_at)
            now = self.clock()
            transition = self._retained(transition, payment.kind, now)
            try:
                changed = self.repository.save_change(payment, transition, now)
                raised(transition, changed)
                return changed
            except ConcurrentUpdate:
                payment = self.get(payment.id)
        raise ConcurrentUpdate(f"payment {payment.id} is changing too often; retry")

    def review(
        self,
        payment_id: str,
        kind: Kind,
        decision: ReviewDecision,
        note: str,
        actor: str,
        actor_email: str | None = None,
    ) -> Payment:
        """The merchant's decision on a `needs_review` payment: `succeeded` (accept) or
        `failed` (reject), with who (`actor`: the operator's user id, and email), when and why.
        `InvalidState` (409) in any other status."""
        payment = self.get(payment_id, kind)
        for _ in range(MAX_WRITE_ATTEMPTS):
            if payment.status is not PaymentStatus.NEEDS_REVIEW:
                raise InvalidState(
                    f"{kind.value} {payment_id} is {payment.status.value}; only a needs_review "
                    f"{kind.value} can be reviewed",
                    field="status",
                )
            now = self.clock()
            review = Review(
                decision=decision,
                note=note,
                reviewed_by=actor,
                reviewed_by_email=actor_email,
                reviewed_at=now,
            )
            try:
                decided = self._retained(reviewed(payment, review), kind, now)
                return self.repository.save_change(payment, decided, now)
            except ConcurrentUpdate:
                payment = self.get(payment_id, kind)
        raise ConcurrentUpdate(f"{kind.value} {payment_id} is changing too often; retry")

    def callbacks(self, payment: Payment) -> list[WebhookRecord]:
        """Every stored notification about `payment`."""
        return self.repository.callbacks(payment.id)

    def earlier_attempts(self, payment: Payment) -> list[Payment]:
        """Other payments for the same order (`merchant_reference`) that may have taken or may
        still take the shopper's money: every status but `failed`, `expired` and `cancelled`
        (the newest `ATTEMPTS_LOOKED_AT`)."""
        ended = {PaymentStatus.FAILED, PaymentStatus.EXPIRED, PaymentStatus.CANCELLED}
        found = self.repository.with_reference(
            payment.kind, payment.merchant_reference, ATTEMPTS_LOOKED_AT
        )
        return [other for other in found if other.id != payment.id and other.status not in ended]

    def find(
        self, provider: Provider, payment_id: str | None, provider_reference: str | None
    ) -> Payment | None:
        """The `provider`'s payment with this id, else with this provider reference."""
        payment = self.repository.get(payment_id) if payment_id else None
        if payment is None and provider_reference:
            payment = self.repository.find_by_provider_reference(provider, provider_reference)
        return payment if payment is not None and payment.provider is provider else None

    def record_unapplied(
        self,
        provider: Provider,
        dedupe_key: str,
        body: dict[str, object],
        *,
        payment_id: str | None = None,
        outcome: WebhookOutcome | None = None,
    ) -> WebhookOutcome:
        """Store a verified notification that must change nothing (e.g. a type we do not
        know, or a result its provider has not confirmed yet) exactly once: `outcome`, by
        default `stale` (or `unknown_payment` without a payment id); `duplicate` when it was
        stored before."""
        record = WebhookRecord(
            provider=provider,
            dedupe_key=dedupe_key,
            payment_id=payment_id,
            outcome=outcome
            or (WebhookOutcome.STALE if payment_id else WebhookOutcome.UNKNOWN_PAYMENT),
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
        if payment_id and needs_the_payment(provider, update):
            payment = self.repository.get(payment_id)  # its meaning depends on the payment
            payment = payment if payment is not None and payment.provider is provider else None
        elif payment_id:
            # Fast path: one conditional transaction, no read (the common, in-order case).
            record = WebhookRecord(
                provider=provider,
                dedupe_key=dedupe_key,
                payment_id=payment_id,
                outcome=WebhookOutcome.APPLIED,
                body=dict(body),
            )
            try:
                now, kind = self.clock(), kind_of(payment_id)
                move = forward(provider, update, kind).from_callback(dedupe_key)
                move = self._retained(move, kind, now)
                self.repository.advance_in_place(payment_id, move, now, record)
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
            decided = decide(payment, update) if payment else None
            transition = decided.from_callback(dedupe_key) if decided else None
            record = WebhookRecord(
                provider=provider,
                dedupe_key=dedupe_key,
                payment_id=payment.id if payment else payment_id,
                outcome=WebhookOutcome.APPLIED if transition else outcome,
                body=dict(body),
            )
            try:
                if payment is None or transition is None:
                    self.repository.record_webhook(record)
                    return outcome
                now = self.clock()
                transition = self._retained(transition, payment.kind, now)
                changed = self.repository.save_change(payment, transition, now, record)
                raised(transition, changed)
                return WebhookOutcome.APPLIED
            except DuplicateWebhook:
                return WebhookOutcome.DUPLICATE
            except ConcurrentUpdate:
                logger.info("concurrent update, retrying", extra={"payment_id": record.payment_id})
                payment = self.repository.get(str(record.payment_id))
        raise ConcurrentUpdate("payment is changing too often; the provider will retry")
