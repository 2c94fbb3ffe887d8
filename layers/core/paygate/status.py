"""Merchant-facing statuses (one enum for every provider) and the forward-only state machine.

`created → pending → requires_confirmation → requires_action → processing → terminal`, where
terminal is one of `succeeded | failed | cancelled | expired | needs_review`. A status only
moves forward in that order; a terminal status never changes, with one documented exception
(docs/lifecycle.md): a provider report that money moved (`succeeded`, `processing` or a
provider's own `needs_review`) on a payment that ended without money (`expired`, `cancelled`,
`failed`) becomes `needs_review` (`late_result_target`), so a late result is never dropped;
a provider report that contradicts a merchant's review does too (`paygate.transition`).
This module is the order; `paygate.transition` decides each change from it, once.
"""

from __future__ import annotations

from paygate.domain import PaymentStatus

# Waiting for the customer (or for the provider to hand the customer something): only these
# expire, after the method's window (paygate.lifecycle).
WAITING_STATUSES = frozenset(
    {
        PaymentStatus.CREATED,
        PaymentStatus.PENDING,
        PaymentStatus.REQUIRES_CONFIRMATION,
        PaymentStatus.REQUIRES_ACTION,
    }
)
# Ended without money moving: a later provider report that money moved reopens them once.
ENDED_WITHOUT_MONEY = frozenset(
    {PaymentStatus.EXPIRED, PaymentStatus.CANCELLED, PaymentStatus.FAILED}
)
# What a provider reports when money moved (or may be moving).
MONEY_MOVED = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.PROCESSING, PaymentStatus.NEEDS_REVIEW}
)


def late_result_target(current: PaymentStatus, reported: PaymentStatus) -> bool:
    """True when `reported` is a late result that turns the ended `current` into
    `needs_review`: the one way out of a terminal status."""
    return current in ENDED_WITHOUT_MONEY and reported in MONEY_MOVED


def can_transition(current: PaymentStatus, target: PaymentStatus) -> bool:
    """True when `current → target` is a forward move out of a non-terminal status."""
    return not current.is_terminal and target.rank > current.rank


def allowed_predecessors(target: PaymentStatus) -> frozenset[PaymentStatus]:
    """Every status from which `target` may be reached (used as a write condition)."""
    return frozenset(status for status in PaymentStatus if can_transition(status, target))
