"""How long the gateway waits, and for what (docs/lifecycle.md is the prose of this module).

- A payment that waits for its customer (`created`, `pending`, `requires_confirmation`,
  `requires_action`) expires after its method's window, measured from when it entered its
  current wait (`updated_at`). Windows per provider and method are settings.
- Money in motion (`processing`, every payout, and a waiting payment the provider says it is
  working on) never expires and never fails by time: it is queried with backoff for the
  provider's whole retry window, then becomes `needs_review` (`provider_silent`).
- Status queries back off: 60 s, then doubling, at most 6 h; a wait's end is always queried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from paygate.domain import (
    ClarificationAction,
    Kind,
    Method,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
)

if TYPE_CHECKING:
    from paygate.settings import WindowSettings

FIRST_QUERY_AFTER = timedelta(seconds=60)
MAX_QUERY_INTERVAL = timedelta(hours=6)
# Failure codes the gateway itself sets when time runs out.
EXPIRED = "expired"
PROVIDER_SILENT = "provider_silent"
PROVIDER_NOT_FOUND = "provider_not_found"
# What a create that got no answer from the provider leaves on the payment
# (`paygate.ledger.provider_failure_update`).
CREATE_FAILURES = frozenset({"provider_timeout", "provider_unavailable"})


@dataclass(frozen=True)
class WaitWindows:
    """How long each method waits for its customer (settings `WINDOW_*_MINUTES`)."""

    # Smart Glocal holds a session 60 minutes for the customer's action and 240 for our
    # confirmation, then cancels it (its webhooks page); a session we have not heard of yet
    # gets the longer one.
    smartglocal_action: timedelta = timedelta(minutes=60)
    smartglocal_confirmation: timedelta = timedelta(minutes=240)
    # The platform waits 30 minutes for a clarification (ecommpay's Gate docs).
    platform_clarification: timedelta = timedelta(minutes=30)
    # Gate redirects, transfer instructions and the Payment Page (`best_before` = this window).
    # ASSUMPTION: Monetix's docs time a customer's session out after 30 minutes; ecommpay
    # documents no window, the same 30 minutes is used.
    ecommpay_customer: timedelta = timedelta(minutes=30)
    monetix_customer: timedelta = timedelta(minutes=30)
    # ASSUMPTION: Paypro does not document how long a VietQR payment link stays payable.
    paypro_vietqr: timedelta = timedelta(minutes=30)

    @classmethod
    def of(cls, settings: WindowSettings) -> WaitWindows:
        """The windows a function's settings give (`WINDOW_*_MINUTES`)."""
        return cls(
            smartglocal_action=timedelta(minutes=settings.window_smartglocal_action_minutes),
            smartglocal_confirmation=timedelta(
                minutes=settings.window_smartglocal_confirmation_minutes
            ),
            platform_clarification=timedelta(
                minutes=settings.window_platform_clarification_minutes
            ),
            ecommpay_customer=timedelta(minutes=settings.window_ecommpay_customer_minutes),
            monetix_customer=timedelta(minutes=settings.window_monetix_customer_minutes),
            paypro_vietqr=timedelta(minutes=settings.window_paypro_vietqr_minutes),
        )

    def ends(self, payment: Payment) -> datetime:
        """The end of the wait `payment` is in: its window from its last status change."""
        return payment.updated_at + self.for_payment(payment)

    def expires_at(self, payment: Payment) -> datetime | None:
        """When `payment` expires unless its customer completes it first (the reconciler's
        last query and expiry are due then), or None when time ends nothing: it is final, or
        money is in motion (`in_motion`: every payout, `processing`)."""
        if payment.status.is_terminal or in_motion(payment):
            return None
        return self.ends(payment)

    def for_payment(self, payment: Payment) -> timedelta:
        """The window of the wait `payment` is in."""
        if payment.provider is Provider.SMARTGLOCAL:
            if payment.status is PaymentStatus.REQUIRES_ACTION:
                return self.smartglocal_action
            return self.smartglocal_confirmation
        if payment.provider is Provider.PAYPRO:
            return self.paypro_vietqr
        if isinstance(payment.next_action, ClarificationAction):
            return self.platform_clarification
        if payment.provider is Provider.MONETIX:
            return self.monetix_customer
        return self.ecommpay_customer

    def customer_window(self, provider: Provider, method: Method) -> timedelta:
        """The window a new payment's customer gets (the Payment Page's `best_before`)."""
        windows = {
            Provider.MONETIX: self.monetix_customer,
            Provider.ECOMMPAY: self.ecommpay_customer,
            Provider.PAYPRO: self.paypro_vietqr,
        }
        return windows.get(provider, self.smartglocal_action)


class _PerProvider:
    """A window per provider: the platform's (ecommpay and Monetix), Paypro's, Smart Glocal's."""

    platform: timedelta
    paypro: timedelta
    smartglocal: timedelta

    def for_provider(self, provider: Provider) -> timedelta:
        windows = {Provider.PAYPRO: self.paypro, Provider.SMARTGLOCAL: self.smartglocal}
        return windows.get(provider, self.platform)


@dataclass(frozen=True)
class MotionWindows(_PerProvider):
    """How long money in motion is queried before a person must look (`MOTION_*_HOURS`):
    each provider's whole retry window."""

    # ecommpay/Monetix retry callbacks 120 times over 11 days (Gate callbacks page).
    platform: timedelta = timedelta(days=11)
    # Paypro notifies 8 times within 24 h, then the query APIs are the way (Notify page);
    # queries are kept up for 7 more days.
    paypro: timedelta = timedelta(days=8)
    # Smart Glocal holds a session at most 240 minutes and resends webhooks for 30 minutes.
    smartglocal: timedelta = timedelta(minutes=270)


@dataclass(frozen=True)
class TailWindows(_PerProvider):
    """After the gateway's own expiry, how long the provider could still take the money
    (`TAIL_*_HOURS`): the tail of status queries that finds a payment made after the expiry
    whose callbacks were all lost (docs/lifecycle.md rule 9)."""

    # ASSUMPTION: ecommpay/Monetix document no lifetime for a redirect or for transfer
    # instructions (a bank transfer can be made later); three days.
    platform: timedelta = timedelta(hours=72)
    # ASSUMPTION: Paypro documents no VietQR link lifetime; three days.
    paypro: timedelta = timedelta(hours=72)
    # Smart Glocal ends a session within 240 minutes and resends its webhooks for 30 minutes:
    # a session cancelled at our window's end cannot be paid later, but one paid as it was
    # cancelled is reported within that time.
    smartglocal: timedelta = timedelta(minutes=270)
    # The tail's first query after the expiry; each next one twice as far, at most
    # `LifecyclePolicy.max_query_interval` apart, and always one at the tail's end.
    first_query_after: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Observation:
    """What a status query found: the payment after applying the provider's answer, and the
    answer (`update`), or `not_found` when the provider does not know the payment."""

    payment: Payment
    update: ProviderUpdate | None = None
    not_found: bool = False


def in_motion(payment: Payment) -> bool:
    """Money is (or may be) moving: never expires, never fails by time."""
    return payment.kind is Kind.PAYOUT or payment.status is PaymentStatus.PROCESSING


@dataclass(frozen=True)
class LifecyclePolicy:
    """The windows and the query backoff the reconciler applies."""

    waits: WaitWindows = field(default_factory=WaitWindows)
    motion: MotionWindows = field(default_factory=MotionWindows)
    tail: TailWindows = field(default_factory=TailWindows)
    first_query_after: timedelta = FIRST_QUERY_AFTER
    max_query_interval: timedelta = MAX_QUERY_INTERVAL

    def wait_ends(self, payment: Payment) -> datetime:
        return self.waits.ends(payment)

    def motion_ends(self, payment: Payment) -> datetime:
        """Money in motion is followed for the provider's window from when it started moving
        (the payment's creation for payouts, its last status change otherwise)."""
        start = payment.created_at if payment.kind is Kind.PAYOUT else payment.updated_at
        return start + self.motion.for_provider(payment.provider)

    def query_interval(self, attempts: int) -> timedelta:
        """The wait before query number `attempts + 1` of the current status: 60 s, doubling,
        at most `max_query_interval`."""
        interval = self.first_query_after * (1 << min(attempts, 20))
        return min(interval, self.max_query_interval)

    def tail_ends(self, payment: Payment) -> datetime:
        """The end of the tail of queries after the gateway expired `payment` (its expiry is
        its last change: `updated_at`)."""
        return payment.updated_at + self.tail.for_provider(payment.provider)

    def tail_interval(self, attempts: int) -> timedelta:
        """The wait before tail query number `attempts + 1`: 5 minutes, doubling, at most
        `max_query_interval`."""
        interval = self.tail.first_query_after * (1 << min(attempts, 20))
        return min(interval, self.max_query_interval)

    def tail_queries(self, provider: Provider) -> int:
        """How many status queries the tail costs per expired payment (every query
        answered): the cost docs/lifecycle.md states."""
        span, at, attempts = self.tail.for_provider(provider), timedelta(), 0
        while at < span:
            at = min(at + self.tail_interval(attempts), span)
            attempts += 1
        return attempts


def never_reached(payment: Payment) -> bool:
    """Every create attempt failed before the provider acknowledged anything: no provider
    reference, never handed to the customer, and still carrying our own create failure. The
    shopper never saw a way to pay, so the payment ends at its customer window even when
    the last query cannot be answered (docs/lifecycle.md, rule 2)."""
    handed = {
        PaymentStatus.REQUIRES_CONFIRMATION,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.PROCESSING,
    }
    failure = payment.failure
    return (
        payment.kind is Kind.PAYMENT
        and payment.provider_reference is None
        and payment.status in (PaymentStatus.CREATED, PaymentStatus.PENDING)
        and failure is not None
        and failure.code in CREATE_FAILURES
        and not any(change.to in handed for change in payment.history)
    )
