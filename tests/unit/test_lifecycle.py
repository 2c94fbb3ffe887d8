"""The lifecycle policy over simulated days (docs/lifecycle.md): the reconciler, the ledger and
the state machine driven by a manual clock and scripted provider answers, never by sleeps."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paygate import clock as gateway_clock
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
from paygate.lifecycle import LifecyclePolicy, Observation
from paygate.reconcile import Reconciler
from tests.support.memory import ManualClock, MemoryRepository, run_schedule

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
QR = QrAction(payment_link="https://pay.example/qr/1")
NOT_FOUND = "not found"


class ScriptedProvider:
    """Answers status queries from a script: an update, NOT_FOUND, or an error to raise."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.answer: dict[str, ProviderUpdate | str | Exception] = {}
        # Answers used once each, in order, before `answer`.
        self.script: dict[str, list[ProviderUpdate | str | Exception]] = {}
        self.queries: dict[str, list[datetime]] = {}
        self.cancel_answer: ProviderUpdate | Exception = ProviderUpdate(status=S.CANCELLED)
        self.cancels = 0

    def observe(self, payment: Payment) -> Observation:
        self.queries.setdefault(payment.id, []).append(gateway_clock.now())
        scripted = self.script.get(payment.id)
        answer = (
            scripted.pop(0)
            if scripted
            else self.answer.get(payment.id, ProviderUpdate(status=S.PENDING))
        )
        if isinstance(answer, Exception):
            raise answer
        if answer == NOT_FOUND:
            return Observation(payment, not_found=True)
        assert isinstance(answer, ProviderUpdate)
        return Observation(self.ledger.apply(payment, answer, Cause.RECONCILIATION), answer)

    def cancel(self, payment: Payment) -> ProviderUpdate:
        self.cancels += 1
        if isinstance(self.cancel_answer, Exception):
            raise self.cancel_answer
        return self.cancel_answer


class World:
    def __init__(self) -> None:
        self.clock = ManualClock(T0)
        self.repository = MemoryRepository()
        self.ledger = Ledger(self.repository, clock=self.clock)  # type: ignore[arg-type]
        self.provider = ScriptedProvider(self.ledger)
        observers = {provider: self.provider.observe for provider in Provider}
        self.reconciler = Reconciler(
            self.ledger,
            observers,
            LifecyclePolicy(),
            self.clock,
            cancellers={Provider.SMARTGLOCAL: self.provider.cancel},
        )

    def add(self, status: S, provider: Provider = Provider.PAYPRO, **fields: object) -> Payment:
        method = {
            Provider.PAYPRO: Method.VIETQR,
            Provider.SMARTGLOCAL: Method.EWALLET,
            Provider.ECOMMPAY: Method.NAPAS_ATM,
            Provider.MONETIX: Method.BANK_TRANSFER,
        }[provider]
        prefix = "po" if fields.get("kind") is Kind.PAYOUT else "pay"
        payment = Payment(
            id=f"{prefix}_{len(self.repository.payments)}",
            provider=provider,
            method=method,
            status=status,
            amount=100_000,
            merchant_reference="order-1",
            created_at=self.clock(),
            updated_at=self.clock(),
            **fields,  # type: ignore[arg-type]
        )
        self.repository.create(payment)
        return payment

    def run_for(self, **delta: float) -> None:
        """EventBridge's rate(1 minute) over `delta` of simulated time, idle ticks skipped."""
        run_schedule(self.repository, self.clock, self.reconciler.run, timedelta(**delta))

    def get(self, payment: Payment) -> Payment:
        found = self.repository.payments[payment.id]
        return found

    def changes(self, payment: Payment) -> list[S]:
        return [to for pid, _, to, _ in self.repository.changes if pid == payment.id]


@pytest.fixture
def world() -> Iterator[World]:
    made = World()
    gateway_clock.use(made.clock)
    yield made
    gateway_clock.use(None)


def test_the_query_backoff_doubles_from_60_seconds_to_at_most_6_hours() -> None:
    policy = LifecyclePolicy()
    assert [policy.query_interval(n).total_seconds() for n in range(10)] == [
        60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600
    ]  # fmt: skip
    assert policy.query_interval(500) == timedelta(hours=6)


def test_in_progress_answers_keep_the_qr_until_the_window_then_it_expires_once(
    world: World,
) -> None:
    payment = world.add(S.REQUIRES_ACTION, next_action=QR)
    world.provider.answer[payment.id] = ProviderUpdate(status=S.PENDING)  # Paypro 0015
    world.run_for(minutes=29, seconds=59)
    waiting = world.get(payment)
    assert (waiting.status, waiting.next_action) == (S.REQUIRES_ACTION, QR)
    assert len(world.provider.queries[payment.id]) >= 4
    world.run_for(minutes=1)
    final = world.get(payment)
    assert final.status is S.EXPIRED and final.failure is not None
    assert final.failure.code == "expired"
    assert world.provider.queries[payment.id][-1] == T0 + timedelta(minutes=30)  # asked last
    world.run_for(days=2)
    assert world.changes(payment) == [S.REQUIRES_ACTION, S.EXPIRED]


def test_a_customer_paying_inside_the_window_succeeds(world: World) -> None:
    payment = world.add(S.REQUIRES_ACTION, next_action=QR)
    world.run_for(minutes=29)
    world.provider.answer[payment.id] = ProviderUpdate(status=S.SUCCEEDED, amount_received=100_000)
    world.run_for(minutes=2)
    assert world.get(payment).status is S.SUCCEEDED
    assert world.changes(payment) == [S.REQUIRES_ACTION, S.SUCCEEDED]


@pytest.mark.parametrize(
    ("ended", "code"),
    [(S.EXPIRED, "paid_after_expiry"), (S.CANCELLED, "late_result"), (S.FAILED, "late_result")],
)
def test_a_late_success_on_an_ended_payment_needs_review_once(
    world: World, ended: S, code: str
) -> None:
    payment = world.add(ended, failure=Failure(code="expired", message="m"))
    success = ProviderUpdate(status=S.SUCCEEDED, amount_received=100_000, provider_reference="p1")
    after = world.ledger.apply(payment, success, Cause.RECONCILIATION)
    assert after.status is S.NEEDS_REVIEW and after.failure is not None
    assert after.failure.code == code and after.provider_reference == "p1"
    assert (
        world.ledger.apply(after, success, Cause.RECONCILIATION) == after
    )  # terminal again: exactly one change
    assert world.changes(payment) == [ended, S.NEEDS_REVIEW]


def test_a_late_decline_on_an_ended_payment_changes_nothing(world: World) -> None:
    payment = world.add(S.EXPIRED)
    assert (
        world.ledger.apply(payment, ProviderUpdate(status=S.FAILED), Cause.RECONCILIATION)
        == payment
    )


@pytest.mark.parametrize(
    ("provider", "window"),
    [
        (Provider.ECOMMPAY, timedelta(days=11)),
        (Provider.MONETIX, timedelta(days=11)),
        (Provider.PAYPRO, timedelta(days=8)),
        (Provider.SMARTGLOCAL, timedelta(minutes=270)),
    ],
)
def test_money_in_motion_never_expires_and_needs_review_after_the_providers_window(
    world: World, provider: Provider, window: timedelta
) -> None:
    payment = world.add(S.PROCESSING, provider)
    world.provider.answer[payment.id] = ProviderUpdate(status=S.PROCESSING)
    world.run_for(seconds=window.total_seconds() - 60)
    assert world.get(payment).status is S.PROCESSING
    times = world.provider.queries[payment.id]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) <= timedelta(hours=6, minutes=1)
    world.run_for(minutes=2)
    final = world.get(payment)
    assert final.status is S.NEEDS_REVIEW and final.failure is not None
    assert final.failure.code == "provider_silent"
    assert world.changes(payment) == [S.PROCESSING, S.NEEDS_REVIEW]


@pytest.mark.parametrize(
    ("answer", "still_pending_after", "settled_after", "status", "code"),
    [
        (ProviderTimeout("slow"), {"days": 10, "hours": 23}, {"hours": 2},
         S.NEEDS_REVIEW, "provider_silent"),
        (NOT_FOUND, {"days": 10}, {"days": 2}, S.FAILED, "provider_not_found"),
    ],
    ids=[
        "a_payout_never_expires_even_while_the_provider_cannot_answer",
        "a_payout_fails_only_when_not_found_spans_the_whole_window",
    ],
)  # fmt: skip
def test_a_payout_is_settled_only_at_the_end_of_its_window(
    world: World,
    answer: str | Exception,
    still_pending_after: dict[str, float],
    settled_after: dict[str, float],
    status: S,
    code: str,
) -> None:
    payout = world.add(S.PENDING, Provider.ECOMMPAY, kind=Kind.PAYOUT)
    world.provider.answer[payout.id] = answer
    world.run_for(**still_pending_after)
    assert world.get(payout).status is S.PENDING
    world.run_for(**settled_after)
    final = world.get(payout)
    assert final.status is status and final.failure is not None
    assert final.failure.code == code


def test_failed_queries_break_a_not_found_span(world: World) -> None:
    """The model-based test found it: an outage hid the payout's arrival at the provider, so
    only "not found" answers from end to end may fail a payout."""
    payout = world.add(S.PENDING, Provider.ECOMMPAY, kind=Kind.PAYOUT)
    world.provider.answer[payout.id] = NOT_FOUND
    world.run_for(days=3)
    world.provider.answer[payout.id] = ProviderError("503", definitive=False)
    world.run_for(days=1)
    world.provider.answer[payout.id] = NOT_FOUND
    world.run_for(days=7, hours=6)
    final = world.get(payout)
    assert final.status is S.NEEDS_REVIEW and final.failure is not None
    assert final.failure.code == "provider_silent"


def test_a_payout_seen_once_is_never_failed_by_not_found(world: World) -> None:
    payout = world.add(S.PENDING, Provider.ECOMMPAY, kind=Kind.PAYOUT)
    world.provider.answer[payout.id] = NOT_FOUND
    world.run_for(days=2)
    world.provider.answer[payout.id] = ProviderUpdate(status=S.PENDING)  # found, in progress
    world.run_for(hours=7)
    world.provider.answer[payout.id] = NOT_FOUND
    world.run_for(days=10)
    assert world.get(payout).status is S.NEEDS_REVIEW  # not failed: it was seen


def test_a_failing_query_at_the_window_end_never_expires_the_payment(world: World) -> None:
    payment = world.add(S.REQUIRES_ACTION, next_action=QR)
    world.provider.answer[payment.id] = ProviderError("5xx", definitive=False)
    world.run_for(hours=5)
    assert world.get(payment).status is S.REQUIRES_ACTION
    world.provider.answer[payment.id] = ProviderUpdate(status=S.PENDING)
    world.run_for(hours=7)  # the backoff is at most 6 hours apart
    assert world.get(payment).status is S.EXPIRED


def test_a_query_that_failed_at_the_window_end_is_asked_again_within_a_minute(
    world: World,
) -> None:
    """One failed query at the window's end does not hold the expiry back a whole backoff
    interval (32 minutes after a 30-minute window): the provider is asked again after 60 s,
    and the payment expires within 2 minutes of its window once it answers."""
    payment = world.add(S.REQUIRES_ACTION, next_action=QR)
    world.provider.answer[payment.id] = ProviderUpdate(status=S.PENDING)
    world.run_for(minutes=29, seconds=59)
    world.provider.answer[payment.id] = ProviderError("timeout", definitive=False)
    world.run_for(seconds=30)  # the query at 30:00 fails
    assert world.provider.queries[payment.id][-1] == T0 + timedelta(minutes=30)
    assert world.get(payment).status is S.REQUIRES_ACTION
    world.provider.answer[payment.id] = ProviderUpdate(status=S.PENDING)
    world.run_for(minutes=2)
    final = world.get(payment)
    assert final.status is S.EXPIRED
    assert final.updated_at <= T0 + timedelta(minutes=32)


@settings(max_examples=30, deadline=None)
@given(failures=st.integers(min_value=0, max_value=6))
def test_failed_queries_after_the_window_delay_the_expiry_on_a_doubling_retry(
    failures: int,
) -> None:
    """Whatever number of queries fail from the window's end on, the payment expires with the
    first answer, and that answer comes 1, 2, 4, ... minutes after the window (no more
    queries than failures + 1 after it)."""
    world = World()
    gateway_clock.use(world.clock)
    try:
        payment = world.add(S.REQUIRES_ACTION, next_action=QR)
        world.provider.answer[payment.id] = ProviderUpdate(status=S.PENDING)
        world.run_for(minutes=29, seconds=59)
        before = len(world.provider.queries[payment.id])
        answers = [ProviderError("timeout", definitive=False)] * failures
        world.provider.script[payment.id] = [*answers, ProviderUpdate(status=S.PENDING)]
        world.run_for(hours=3)
        final = world.get(payment)
        assert final.status is S.EXPIRED
        ends = T0 + timedelta(minutes=30)
        latest = ends + timedelta(minutes=2 ** (failures - 1) if failures else 0, seconds=60)
        assert final.updated_at <= latest
        asked = world.provider.queries[payment.id][before:]
        assert len([at for at in asked if at <= final.updated_at]) == failures + 1
    finally:
        gateway_clock.use(None)


def test_a_provider_that_stays_silent_after_the_window_is_asked_on_a_backoff(
    world: World,
) -> None:
    payment = world.add(S.REQUIRES_ACTION, next_action=QR)
    world.provider.answer[payment.id] = ProviderError("503", definitive=False)
    world.run_for(minutes=30)
    asked = len(world.provider.queries[payment.id])
    world.run_for(hours=4)
    # after the window: 1, 2, 4, ... minutes apart (as long as the window has been over)
    assert len(world.provider.queries[payment.id]) - asked <= 10


def test_a_provider_silent_for_its_whole_window_needs_review_never_expires(
    world: World,
) -> None:
    payment = world.add(S.REQUIRES_ACTION, next_action=QR)
    world.provider.answer[payment.id] = ProviderError("503", definitive=False)
    world.run_for(days=7, hours=23)
    assert world.get(payment).status is S.REQUIRES_ACTION
    world.run_for(hours=2)
    final = world.get(payment)
    assert final.status is S.NEEDS_REVIEW and final.failure is not None
    assert final.failure.code == "provider_silent"


def test_a_provider_working_at_the_window_end_is_followed_as_money_in_motion(
    world: World,
) -> None:
    redirect = RedirectAction(url="https://bank.example/pay")
    payment = world.add(S.REQUIRES_ACTION, Provider.ECOMMPAY, next_action=redirect)
    world.run_for(minutes=20)
    working = ProviderUpdate(status=S.PENDING, provider_working=True)  # platform `processing`
    world.provider.answer[payment.id] = working
    world.run_for(days=10)
    assert world.get(payment).status is S.REQUIRES_ACTION  # never expired
    world.run_for(days=2)
    assert world.get(payment).status is S.NEEDS_REVIEW


def test_smart_glocal_is_cancelled_there_before_the_payment_expires(world: World) -> None:
    payment = world.add(S.REQUIRES_CONFIRMATION, Provider.SMARTGLOCAL, provider_reference="s1")
    world.run_for(minutes=239)
    assert (world.get(payment).status, world.provider.cancels) == (S.REQUIRES_CONFIRMATION, 0)
    world.run_for(minutes=2)
    final = world.get(payment)
    assert final.status is S.EXPIRED and world.provider.cancels == 1
    assert final.failure is not None and "cancelled at smartglocal" in final.failure.message


def test_a_refused_cancel_is_followed_as_money_in_motion_not_expired(world: World) -> None:
    payment = world.add(S.REQUIRES_ACTION, Provider.SMARTGLOCAL, provider_reference="s1")
    world.provider.cancel_answer = ProviderError("cannot cancel", definitive=True)
    world.run_for(minutes=61)
    assert world.get(payment).status is S.REQUIRES_ACTION
    world.provider.answer[payment.id] = ProviderUpdate(status=S.SUCCEEDED, amount_received=100_000)
    world.run_for(hours=2)
    assert world.get(payment).status is S.SUCCEEDED


def test_a_status_change_restarts_the_backoff(world: World) -> None:
    payment = world.add(S.PENDING, Provider.MONETIX)
    world.run_for(minutes=10)
    world.provider.answer[payment.id] = ProviderUpdate(status=S.PROCESSING)
    before = len(world.provider.queries[payment.id])
    world.run_for(minutes=16)
    after = world.provider.queries[payment.id][before:]
    gaps = [b - a for a, b in itertools.pairwise(after)]
    assert gaps[:3] == [timedelta(minutes=n) for n in (1, 2, 4)]
