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
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from paygate.domain import (
    Cause,
    Failure,
    NextAction,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
    Review,
    ReviewDecision,
    StatusChange,
)
from paygate.status import allowed_predecessors, late_result_target

PAID_AFTER_EXPIRY = "paid_after_expiry"
LATE_RESULT = "late_result"
AMOUNT_MISMATCH = "amount_mismatch"
REVIEW_REJECTED = "review_rejected"
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

    def because(self, cause: Cause) -> Transition:
        """This transition, caused by `cause`."""
        return replace(self, cause=cause)

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
            note=self.review.note if self.review else None,
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


def forward(provider: Provider, update: ProviderUpdate) -> Transition:
    """The update as a plain forward move, decided without reading the payment: from every
    status before its target; a success only on a payment of the reported amount and
    currency (anything else is decided by `decide` once the payment is read)."""
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
    `requires_action` payment may be handed a new next action."""
    if late_result_target(payment.status, update.status):
        return _late_result(payment, update)
    move = forward(payment.provider, update)
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
    failure = Failure(
        code=PAID_AFTER_EXPIRY if expired else LATE_RESULT,
        message=(
            f"{payment.provider.value} reported the payment {reported} after the gateway had "
            f"ended it as {payment.status.value}; check with the provider and decide"
        ),
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


def _new_action(payment: Payment, update: ProviderUpdate) -> bool:
    """A payment waiting for the customer may be handed a different next action without a
    status change (e.g. the redirect that follows a clarification)."""
    waiting = payment.status is PaymentStatus.REQUIRES_ACTION is update.status
    return waiting and update.next_action is not None and update.next_action != payment.next_action
