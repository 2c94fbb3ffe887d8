"""A tiny reference model of the providers, for the model-based lifecycle test
(tests/unit/test_lifecycle_model.py): each provider keeps its own truth per order, answers
creates, status queries and (Smart Glocal) cancels from it, and queues one callback per fact it
learns, which the test delivers late, twice, out of order or never.

The model is deliberately simpler than the real APIs: it speaks `ProviderUpdate`s (what the
gateways' mappers produce), so what is tested is the lifecycle (ledger, state machine,
reconciler), not the wire formats (the transformer tests cover those).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from paygate.domain import (
    Cause,
    Failure,
    Kind,
    Method,
    Payment,
    Provider,
    ProviderUpdate,
    QrAction,
    RedirectAction,
)
from paygate.domain import PaymentStatus as S
from paygate.errors import ProviderError, ProviderTimeout
from paygate.ledger import Ledger
from paygate.lifecycle import Observation
from paygate.status import ENDED_WITHOUT_MONEY
from paygate.status import MONEY_MOVED as REPORTS_MONEY_MOVED


class Truth(StrEnum):
    """What the provider knows about one order."""

    OPEN = "open"  # payin: waiting for the customer
    MOVING = "moving"  # payin: paid, the bank is moving it; payout: accepted, being sent
    PAID = "paid"  # payin: money arrived; payout: paid out
    DECLINED = "declined"
    EXPIRED = "expired"  # payin: closed unpaid at the provider
    CANCELLED = "cancelled"  # payin: cancelled at the provider (Smart Glocal session/cancel)


MONEY_MOVED = frozenset({Truth.MOVING, Truth.PAID})


class CreateOutcome(StrEnum):
    """How a create call to the provider goes."""

    ACCEPTED = "accepted"
    TIMEOUT_REACHED = "timeout_reached"  # the provider took it; our call timed out
    TIMEOUT_LOST = "timeout_lost"  # the request never reached the provider
    UNAVAILABLE_REACHED = "5xx_reached"  # 5xx, but the provider had registered it
    UNAVAILABLE_LOST = "5xx_lost"
    REFUSED = "refused"  # an explicit business refusal: nothing registered


@dataclass(frozen=True)
class Create:
    """One create call as the provider takes it."""

    outcome: CreateOutcome
    # How long the provider lets the customer pay (None: as long as the order is open).
    lifetime: timedelta | None = None
    # A request that reached the provider but timed out (or got a 5xx) may be registered
    # only later: until then status queries answer "not found".
    lag: timedelta = timedelta()


REACHES = frozenset(
    {CreateOutcome.ACCEPTED, CreateOutcome.TIMEOUT_REACHED, CreateOutcome.UNAVAILABLE_REACHED}
)

# The products of the history: provider, kind and method.
PRODUCTS: tuple[tuple[Provider, Kind, Method], ...] = (
    (Provider.PAYPRO, Kind.PAYMENT, Method.VIETQR),
    (Provider.PAYPRO, Kind.PAYOUT, Method.VIETQR),
    (Provider.SMARTGLOCAL, Kind.PAYMENT, Method.EWALLET),
    (Provider.ECOMMPAY, Kind.PAYMENT, Method.NAPAS_ATM),
    (Provider.ECOMMPAY, Kind.PAYOUT, Method.NAPAS_ATM),
    (Provider.MONETIX, Kind.PAYMENT, Method.BANK_TRANSFER),
)


@dataclass
class Order:
    """One order (payin) or payout as the provider sees it."""

    payment_id: str
    provider: Provider
    kind: Kind
    amount: int
    merchant_key: str
    opened_at: datetime
    # How long the provider lets the customer pay (None: as long as the order is open).
    lifetime: timedelta | None
    visible_from: datetime
    acknowledged: bool = False  # our create got the provider's answer (and its reference)
    # The provider's status API misses the order until then (it still has it: callbacks and
    # payments go on).
    missing_until: datetime | None = None
    truth: Truth = Truth.OPEN
    received: int | None = None
    moved_at: datetime | None = None  # when money first moved at the provider
    # The gateway had already ended the payment (without money) when the money moved.
    ended_before_move: bool = False
    # The platform's own `processing` (ambiguous: also reported while the customer is still
    # choosing) rather than an unambiguous "money moving" status, for moving platform payins.
    ambiguous_motion: bool = False
    money_heard: bool = False  # a callback saying money moved reached the gateway

    @property
    def reference(self) -> str:
        return f"{self.provider.value}-{self.payment_id}"

    def found_at(self, now: datetime) -> bool:
        """Whether a status query (or a cancel) at `now` finds the order."""
        missing = self.missing_until is not None and now < self.missing_until
        return now >= self.visible_from and not missing

    def accepts_payment(self, now: datetime) -> bool:
        """The customer can pay: an open payin whose way to pay (QR, redirect) the create's
        answer handed out, within the order's lifetime."""
        if self.kind is not Kind.PAYMENT or self.truth is not Truth.OPEN:
            return False
        if not self.acknowledged:
            return False
        if now < self.visible_from:
            return False
        return self.lifetime is None or now < self.opened_at + self.lifetime


@dataclass
class Callback:
    """One fact the provider notifies, under the dedupe key the webhook gateway would use."""

    payment_id: str
    provider: Provider
    dedupe_key: str
    update: ProviderUpdate
    truth: Truth


@dataclass
class ProviderModel:
    """Every provider's truth, its callback outbox and what it was asked."""

    ledger: Ledger
    orders: dict[str, Order] = field(default_factory=dict)
    outbox: list[Callback] = field(default_factory=list)
    down: set[Provider] = field(default_factory=set)
    sends_per_key: Counter[str] = field(default_factory=Counter)
    creates_per_payment: Counter[str] = field(default_factory=Counter)
    queries: int = 0
    cancels: int = 0

    # -- create ------------------------------------------------------------------------------

    def create(
        self, payment: Payment, create: Create, merchant_key: str, now: datetime
    ) -> ProviderUpdate:
        """The provider side of `Ledger.start`: register (or not) and answer (or raise)."""
        self.creates_per_payment[payment.id] += 1
        outcome = create.outcome
        if outcome in REACHES:
            lag = timedelta() if outcome is CreateOutcome.ACCEPTED else create.lag
            order = Order(
                payment_id=payment.id,
                provider=payment.provider,
                kind=payment.kind,
                amount=payment.amount,
                merchant_key=merchant_key,
                opened_at=now,
                lifetime=create.lifetime if payment.kind is Kind.PAYMENT else None,
                visible_from=now + lag,
                acknowledged=outcome is CreateOutcome.ACCEPTED,
            )
            if payment.kind is Kind.PAYOUT:  # accepted: the money is on its way (strictly:
                # from the request on, even before the provider shows it)
                order.truth, order.moved_at = Truth.MOVING, now
            self.orders[payment.id] = order
            self.sends_per_key[merchant_key] += 1
        if outcome in (CreateOutcome.TIMEOUT_REACHED, CreateOutcome.TIMEOUT_LOST):
            raise ProviderTimeout(f"{payment.provider.value} did not answer in time")
        if outcome in (CreateOutcome.UNAVAILABLE_REACHED, CreateOutcome.UNAVAILABLE_LOST):
            raise ProviderError("HTTP 503", provider_code="503", definitive=False)
        if outcome is CreateOutcome.REFUSED:
            raise ProviderError("refused", provider_code="limit_exceeded", definitive=True)
        return self._accepted(self.orders[payment.id])

    def _accepted(self, order: Order) -> ProviderUpdate:
        if order.kind is Kind.PAYOUT:
            return ProviderUpdate(status=S.PROCESSING, provider_reference=order.reference)
        if order.provider is Provider.PAYPRO:
            action: QrAction | RedirectAction = QrAction(
                payment_link=f"https://pay.example/qr/{order.payment_id}"
            )
        else:
            action = RedirectAction(url=f"https://pay.example/{order.payment_id}")
        return ProviderUpdate(
            status=S.REQUIRES_ACTION, provider_reference=order.reference, next_action=action
        )

    # -- what the provider says --------------------------------------------------------------

    def update_for(self, order: Order) -> ProviderUpdate:
        """The provider's answer about `order`, as the gateway's mapper would produce it."""
        ref = order.reference
        if order.truth is Truth.OPEN:  # "in progress" (Paypro 0015): nothing new
            return ProviderUpdate(status=S.PENDING, provider_reference=ref)
        if order.truth is Truth.MOVING:
            if order.ambiguous_motion:
                # the platform's `processing` on a waiting payment: money may be moving
                return ProviderUpdate(
                    status=S.PENDING, provider_working=True, provider_reference=ref
                )
            return ProviderUpdate(status=S.PROCESSING, provider_reference=ref)
        if order.truth is Truth.PAID:
            return ProviderUpdate(
                status=S.SUCCEEDED,
                provider_reference=ref,
                amount_received=order.received,
                currency="VND",
            )
        if order.truth is Truth.DECLINED:
            failure = Failure(code="provider_declined", message="declined", provider_code="D")
            return ProviderUpdate(status=S.FAILED, provider_reference=ref, failure=failure)
        if order.truth is Truth.EXPIRED:
            failure = Failure(code="expired", message="closed at the provider")
            return ProviderUpdate(status=S.EXPIRED, provider_reference=ref, failure=failure)
        # Smart Glocal's session `cancelled` (our cancel at the window's end): abandoned
        failure = Failure(code="expired", message="session cancelled", provider_code="cancelled")
        return ProviderUpdate(status=S.EXPIRED, provider_reference=ref, failure=failure)

    def become(self, order: Order, truth: Truth, now: datetime) -> None:
        """The provider's truth changes; it queues the callback for that fact."""
        order.truth = truth
        if truth in MONEY_MOVED and order.moved_at is None:
            order.moved_at = now
            ours = self.ledger.repository.get(order.payment_id)
            order.ended_before_move = ours is not None and ours.status in ENDED_WITHOUT_MONEY
        self.outbox.append(
            Callback(
                payment_id=order.payment_id,
                provider=order.provider,
                dedupe_key=f"{order.reference}:{truth.value}",
                update=self.update_for(order),
                truth=truth,
            )
        )

    def deliver(self, callback: Callback) -> None:
        """One delivery of `callback` to the webhook gateway (`payment_id=` fast path)."""
        self.ledger.ingest(
            callback.provider,
            callback.dedupe_key,
            {"fact": callback.truth.value, "id": callback.payment_id},
            callback.update,
            payment_id=callback.payment_id,
        )
        if callback.update.status in REPORTS_MONEY_MOVED:
            self.orders[callback.payment_id].money_heard = True

    # -- reconciliation's view ---------------------------------------------------------------

    def _known_order(self, payment: Payment, now: datetime) -> Order | None:
        """The provider's order for `payment` if it knows it at `now`; a 502 while it is down."""
        if payment.provider in self.down:
            raise ProviderError("HTTP 502", provider_code="502", definitive=False)
        order = self.orders.get(payment.id)
        return order if order is not None and order.found_at(now) else None

    def observe(self, payment: Payment, now: datetime) -> Observation:
        """A status query, applied through the ledger (as the gateways' `observe` do)."""
        self.queries += 1
        order = self._known_order(payment, now)
        if order is None:
            return Observation(payment, not_found=True)
        update = self.update_for(order)
        return Observation(self.ledger.apply(payment, update, Cause.RECONCILIATION), update)

    def cancel(self, payment: Payment, now: datetime) -> ProviderUpdate:
        """Smart Glocal's `session/cancel`: cancels an open session, refuses otherwise."""
        self.cancels += 1
        order = self._known_order(payment, now)
        if order is None:
            raise ProviderError("session not found", provider_code="404", definitive=True)
        if order.truth is Truth.OPEN:
            self.become(order, Truth.CANCELLED, now)
        if order.truth is Truth.MOVING:
            raise ProviderError("the session cannot be cancelled now", definitive=True)
        return self.update_for(order)
