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

from paygate.domain import (
    ClarificationAction,
    Kind,
    Method,
    Payment,
    PaymentStatus,
    Provider,
    ProviderUpdate,
)

FIRST_QUERY_AFTER = timedelta(seconds=60)
MAX_QUERY_INTERVAL = timedelta(hours=6)
# Failure codes the gateway itself sets when time runs out.
EXPIRED = "expired"
PROVIDER_SILENT = "provider_silent"
PROVIDER_NOT_FOUND = "provider_not_found"


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


@dataclass(frozen=True)
class MotionWindows:
    """How long money in motion is queried before a person must look (`MOTION_*_HOURS`):
    each provider's whole retry window."""

    # ecommpay/Monetix retry callbacks 120 times over 11 days (Gate callbacks page).
    platform: timedelta = timedelta(days=11)
    # Paypro notifies 8 times within 24 h, then the query APIs are the way (Notify page);
    # queries are kept up for 7 more days.
    paypro: timedelta = timedelta(days=8)
    # Smart Glocal holds a session at most 240 minutes and resends webhooks for 30 minutes.
    smartglocal: timedelta = timedelta(minutes=270)

    def for_provider(self, provider: Provider) -> timedelta:
        windows = {Provider.PAYPRO: self.paypro, Provider.SMARTGLOCAL: self.smartglocal}
        return windows.get(provider, self.platform)


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
    first_query_after: timedelta = FIRST_QUERY_AFTER
    max_query_interval: timedelta = MAX_QUERY_INTERVAL

    def wait_ends(self, payment: Payment) -> datetime:
        return payment.updated_at + self.waits.for_payment(payment)

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
