"""The one transition rule: how a provider update changes a payment, decided once.

`decide(payment, update)` is the state machine (the order of `paygate.status` and the
exceptions of docs/lifecycle.md) and answers a `Transition`: the target status, the stored
statuses it may start from, the amount check of a success, and the fields it sets. Everything
that changes a payment's status applies that object and nothing else:

- the ledger: `Transition.applied_to` is the payment after the change;
- the repository: its conditional write is generated from the object (`allowed_from`,
  `provider`, the amount check → ConditionExpression; `changes()` → UpdateExpression);
- the in-memory repository of the tests evaluates `Transition.admits`.

`forward(provider, update)` is the transition a webhook tries before anything is read: a plain
forward move, refused by the write itself when the stored payment does not admit it (then the
ledger reads the payment and asks `decide`).

Besides the forward order, `decide` applies the documented exceptions (docs/lifecycle.md): a
late result on an ended payment, a provider contradicting a merchant's review (both to
`needs_review`), an acknowledged payout read as `processing` (`as_reported_for`), and a
platform decline of a payment abandoned during its clarification read as `expired`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from paygate.domain import (
    Cause,
    ClarificationAction,
    Failure,
    Kind,
    NextAction,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    Review,
    ReviewDecision,
    StatusChange,
)
from paygate.status import (
    ENDED_WITHOUT_MONEY,
    MONEY_MOVED,
    WAITING_STATUSES,
    allowed_predecessors,
    late_result_target,
)

PAID_AFTER_EXPIRY = "paid_after_expiry"
LATE_RESULT = "late_result"
AMOUNT_MISMATCH = "amount_mismatch"
REVIEW_REJECTED = "review_rejected"
CONTRADICTED_AFTER_REVIEW = "contradicted_after_review"
EXPIRED = "expired"
# The platform's codes of a decline that says nothing about the customer's payment: the
# general decline (`20000`) or none. ASSUMPTION (docs/lifecycle.md): such a decline of a
# payment still waiting for the clarification the platform asked for is its 30-minute
# clarification timeout (the customer never sent the data, so nobody could refuse it on its
# merits); a specific code (e.g. `20102`, incorrect account data) stays a decline.
GENERIC_PLATFORM_DECLINES = frozenset({"20000", None})
PLATFORM = frozenset({Provider.ECOMMPAY, Provider.MONETIX})
# What a payment leaves behind when it becomes final: it is out of the reconcile schedule.
SCHEDULE_FIELDS = ("reconcile_at", "reconcile_attempts", "reconcile_not_found_since")


@dataclass(frozen=True)
class Transition:
    """One decided change of a payment: to `target`, from a stored status in `allowed_from`,
    of a payment of `provider` (and, with the amount check, of exactly `expected_amount` and
    `expected_currency`). `provider_reference` and `amount_received` are set when given and
    kept otherwise; `next_action` and `failure` are always written (None removes them).
    A status change (`target` not in `allowed_from`) also appends its `StatusChange` (what
    caused it: `cause`; a merchant's `review`) to the payment's `history` in the same write."""

    target: PaymentStatus
    allowed_from: frozenset[PaymentStatus]
    provider: Provider
    next_action: NextAction | None = None
    failure: Failure | None = None
    provider_reference: str | None = None
    amount_received: int | None = None
    expected_amount: int | None = None
    expected_currency: str | None = None
    cause: Cause = Cause.WEBHOOK
    review: Review | None = None
    callback: str | None = None
    # An ended payment the reconcile job keeps asking about (the tail after the gateway's own
    # expiry, docs/lifecycle.md rule 9): its next status query.
    schedule_at: datetime | None = None

    def because(self, cause: Cause) -> Transition:
        """This transition, caused by `cause`."""
        return replace(self, cause=cause)

    def from_callback(self, dedupe_key: str) -> Transition:
        """This transition, caused by the webhook with `dedupe_key`."""
        return replace(self, cause=Cause.WEBHOOK, callback=dedupe_key)

    @property
    def changes_status(self) -> bool:
        """True unless the payment keeps its status (a new next action while it waits)."""
        return self.target not in self.allowed_from

    def status_change(self, now: datetime) -> StatusChange | None:
        """The history entry this transition appends (None when the status stays)."""
        if not self.changes_status:
            return None
        failure = self.failure
        return StatusChange(
            to=self.target,
            at=now,
            cause=self.cause,
            provider_code=failure.provider_code if failure else None,
            failure_code=failure.code if failure else None,
            actor=self.review.reviewed_by if self.review else None,
            actor_email=self.review.reviewed_by_email if self.review else None,
            note=self.review.note if self.review else None,
            callback=self.callback,
        )

    def admits(self, payment: Payment) -> bool:
        """The write condition, evaluated on a stored payment."""
        return (
            payment.provider is self.provider
            and payment.status in self.allowed_from
            and self.expected_amount in (None, payment.amount)
            and self.expected_currency in (None, payment.currency)
        )

    def changes(self) -> dict[str, Any]:
        """Every Payment field the transition writes; None resets the field to its default
        (removed from the stored item). Fields not named keep their value; `version` + 1 and
        `updated_at` belong to every write."""
        fields: dict[str, Any] = {
            "status": self.target,
            "next_action": self.next_action,
            "failure": self.failure,
        }
        if self.provider_reference:
            fields["provider_reference"] = self.provider_reference
        if self.amount_received is not None:
            fields["amount_received"] = self.amount_received
        if self.review is not None:
            fields["review"] = self.review
        if self.target.is_terminal:
            fields.update(dict.fromkeys(SCHEDULE_FIELDS))
            if self.schedule_at is not None:
                fields.update(reconcile_at=self.schedule_at, reconcile_attempts=0)
        return fields

    def applied_to(self, payment: Payment, now: datetime) -> Payment:
        """`payment` after this transition (the caller checked `admits`)."""
        values = {
            name: Payment.model_fields[name].get_default(call_default_factory=True)
            if value is None
            else value
            for name, value in self.changes().items()
        }
        change = self.status_change(now)
        history = [*payment.history, change] if change else payment.history
        return payment.model_copy(
            update=values | {"version": payment.version + 1, "updated_at": now, "history": history}
        )


def in_schedule(payment: Payment) -> bool:
    """The reconcile job still asks about `payment`: it is not final, or it is in the tail of
    queries after the gateway's own expiry, or it is a final payout whose destination is masked
    when its retention ends (a terminal payment keeps `reconcile_at` only then)."""
    return not payment.status.is_terminal or payment.reconcile_at is not None


def as_reported_for(kind: Kind, update: ProviderUpdate) -> ProviderUpdate:
    """An answer of the provider about a payout that is still waiting-class (e.g. the
    platform's `processing` after our create timed out) means the provider has the payout:
    it is `processing`, and the provider's answer replaces our own timeout (no failure). An
    update we made ourselves (a failed create: it carries a failure) is left as it is. A
    payout the provider ends unsent is `cancelled`, never `expired`."""
    if kind is not Kind.PAYOUT:
        return update
    if update.status in WAITING_STATUSES and update.failure is None:
        return update.model_copy(
            update={"status": PaymentStatus.PROCESSING, "provider_working": False}
        )
    if update.status is PaymentStatus.EXPIRED:  # a payout is never abandoned: ended unsent
        failure = update.failure
        if failure is not None and failure.code == EXPIRED:
            failure = failure.model_copy(update={"code": PaymentStatus.CANCELLED.value})
        return update.model_copy(update={"status": PaymentStatus.CANCELLED, "failure": failure})
    return update


def needs_the_payment(provider: Provider, update: ProviderUpdate) -> bool:
    """True when the update's meaning depends on the stored payment, so a webhook may not
    apply it without reading first: a platform decline (abandoned while waiting for a
    clarification, see `_abandoned`)."""
    return provider in PLATFORM and update.status is PaymentStatus.FAILED


def forward(provider: Provider, update: ProviderUpdate, kind: Kind = Kind.PAYMENT) -> Transition:
    """The update as a plain forward move, decided without reading the payment: from every
    status before its target; a success only on a payment of the reported amount and
    currency (anything else is decided by `decide` once the payment is read)."""
    update = as_reported_for(kind, update)
    success = update.status is PaymentStatus.SUCCEEDED
    return Transition(
        target=update.status,
        allowed_from=allowed_predecessors(update.status),
        provider=provider,
        next_action=update.next_action if update.status is PaymentStatus.REQUIRES_ACTION else None,
        failure=update.failure,
        provider_reference=update.provider_reference,
        amount_received=update.amount_received,
        expected_amount=update.amount_received if success else None,
        expected_currency=update.currency if success else None,
    )


def decide(payment: Payment, update: ProviderUpdate) -> Transition | None:
    """The transition `update` makes on `payment`, or None when it may not change it (stale,
    duplicate or backwards). Besides a forward move: a late result on an ended payment and a
    success for another amount or currency become `needs_review`, never `succeeded`; a
    `requires_action` payment may be handed a new next action; a provider report that
    contradicts a merchant's review reopens it once (`contradicted_after_review`); a platform
    decline of a payment abandoned during its clarification is `expired`."""
    update = _abandoned(payment, as_reported_for(payment.kind, update))
    if payment.review is not None and payment.status in REVIEWED:
        return _contradicted(payment, update)
    if late_result_target(payment.status, update.status):
        return _late_result(payment, update)
    move = forward(payment.provider, update, payment.kind)
    if move.admits(payment):
        return move
    if update.status is PaymentStatus.SUCCEEDED and payment.status in move.allowed_from:
        return _amount_mismatch(payment, update, move)
    if _new_action(payment, update):
        return Transition(
            target=PaymentStatus.REQUIRES_ACTION,
            allowed_from=frozenset({PaymentStatus.REQUIRES_ACTION}),
            provider=payment.provider,
            next_action=update.next_action,
            failure=update.failure,
            provider_reference=update.provider_reference,
            amount_received=update.amount_received,
        )
    return None


def advance(payment: Payment, update: ProviderUpdate, now: datetime) -> Payment | None:
    """The payment after `update`, or None when the update may not change it."""
    transition = decide(payment, update)
    return transition.applied_to(payment, now) if transition else None


def can_reach(payment: Payment, target: PaymentStatus) -> bool:
    """True when a provider report of `target` would still move `payment` forward (e.g. may
    the gateway still confirm it: is `requires_action` ahead of it)."""
    return payment.status in allowed_predecessors(target)


def reviewed(payment: Payment, review: Review) -> Transition:
    """The merchant's decision on a `needs_review` payment (the only merchant-driven way out
    of it): `accept` → `succeeded`, `reject` → `failed` (`review_rejected`); the write
    requires the payment to be `needs_review` still."""
    accepted = review.decision is ReviewDecision.ACCEPT
    failure = None
    if not accepted:
        failure = Failure(
            code=REVIEW_REJECTED,
            message=f"rejected by the merchant on review: {review.note}",
        )
    return Transition(
        target=PaymentStatus.SUCCEEDED if accepted else PaymentStatus.FAILED,
        allowed_from=frozenset({PaymentStatus.NEEDS_REVIEW}),
        provider=payment.provider,
        failure=failure,
        cause=Cause.MERCHANT_ACTION,
        review=review,
    )


def _amount_mismatch(payment: Payment, update: ProviderUpdate, move: Transition) -> Transition:
    received = update.amount_received
    failure = Failure(
        code=AMOUNT_MISMATCH,
        message=(
            f"provider reported {received if received is not None else payment.amount} "
            f"{update.currency or payment.currency}, expected {payment.amount} "
            f"{payment.currency}"
        ),
    )
    return Transition(
        target=PaymentStatus.NEEDS_REVIEW,
        allowed_from=allowed_predecessors(PaymentStatus.NEEDS_REVIEW),
        provider=payment.provider,
        failure=failure,
        provider_reference=move.provider_reference,
        amount_received=received,
    )


def _late_result(payment: Payment, update: ProviderUpdate) -> Transition:
    """A provider reports money moved on a payment that had ended without money: never
    dropped, never silently reversed; a merchant decides (docs/lifecycle.md, the one way out
    of a terminal status)."""
    expired = payment.status is PaymentStatus.EXPIRED
    reported = update.status.value
    if update.failure is not None and update.status is PaymentStatus.NEEDS_REVIEW:
        reported = f"{reported} ({update.failure.code})"
    return _to_review(
        payment,
        update,
        PAID_AFTER_EXPIRY if expired else LATE_RESULT,
        f"{payment.provider.value} reported the payment {reported} after the gateway had "
        f"ended it as {payment.status.value}; check with the provider and decide",
    )


def _to_review(payment: Payment, update: ProviderUpdate, code: str, message: str) -> Transition:
    """Back to `needs_review` from where the payment is, with the provider's words kept."""
    failure = Failure(
        code=code,
        message=message,
        provider_code=update.failure.provider_code if update.failure else None,
        provider_message=update.failure.provider_message if update.failure else None,
    )
    return Transition(
        target=PaymentStatus.NEEDS_REVIEW,
        allowed_from=frozenset({payment.status}),
        provider=payment.provider,
        failure=failure,
        provider_reference=update.provider_reference,
        amount_received=update.amount_received,
    )


# What a merchant's review ends in: `succeeded` (accept) or `failed` (reject).
REVIEWED = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.FAILED})


def contradicts(payment: Payment, reported: PaymentStatus) -> bool:
    """The provider reports the opposite of the merchant's decision: no money (a decline,
    cancel or expiry) after `accept`, money moved after `reject`."""
    if payment.status is PaymentStatus.SUCCEEDED:
        return reported in ENDED_WITHOUT_MONEY
    return reported in MONEY_MOVED


def _contradicted(payment: Payment, update: ProviderUpdate) -> Transition | None:
    """A reviewed payment changes only when the provider contradicts the review, and only
    once: back to `needs_review` (`contradicted_after_review`); a report that agrees, and any
    report after a second review, changes nothing (docs/lifecycle.md)."""
    raised = any(change.failure_code == CONTRADICTED_AFTER_REVIEW for change in payment.history)
    if raised or not contradicts(payment, update.status):
        return None
    review = payment.review
    decision = review.decision.value if review else "review"
    return _to_review(
        payment,
        update,
        CONTRADICTED_AFTER_REVIEW,
        f"{payment.provider.value} reported the {payment.kind.value} {update.status.value} "
        f"after the merchant's review ({decision}) had made it {payment.status.value}; "
        "check with the provider and decide again",
    )


def _abandoned(payment: Payment, update: ProviderUpdate) -> ProviderUpdate:
    """A platform decline without a specific reason of a payment that still waits for the
    clarification the platform asked for is the clarification's timeout: abandoned, so
    `expired` (ASSUMPTION beside `GENERIC_PLATFORM_DECLINES`)."""
    waiting = payment.status is PaymentStatus.REQUIRES_ACTION and isinstance(
        payment.next_action, ClarificationAction
    )
    failure = update.failure
    code = failure.provider_code if failure else None
    generic = code in GENERIC_PLATFORM_DECLINES
    if not (waiting and generic and needs_the_payment(payment.provider, update)):
        return update
    reason = f" (code {code})" if code else ""
    return update.model_copy(
        update={
            "status": PaymentStatus.EXPIRED,
            "failure": Failure(
                code=EXPIRED,
                message=(
                    "the customer did not send the data the platform asked for in time; the "
                    f"platform ended the payment{reason}"
                ),
                provider_code=code,
                provider_message=failure.provider_message if failure else None,
            ),
        }
    )


def _new_action(payment: Payment, update: ProviderUpdate) -> bool:
    """A payment waiting for the customer may be handed a different next action without a
    status change (e.g. the redirect that follows a clarification)."""
    waiting = payment.status is PaymentStatus.REQUIRES_ACTION is update.status
    return waiting and update.next_action is not None and update.next_action != payment.next_action
