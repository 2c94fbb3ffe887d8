"""Every ending tells the truth (docs/lifecycle.md): abandoned is `expired` and a decline
`failed`, through the providers' real mappings; a provider contradicting a merchant's review is
raised; an acknowledged payout is `processing`; a create that never reached its provider ends
at its window; money paid after an expiry is found by the tail of status queries. The ledger,
the reconciler and the state machine on a manual clock, never sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from paygate import clock as gateway_clock
from paygate import ledger as ledger_module
from paygate.domain import (
    Cause,
    ClarificationAction,
    Kind,
    Payment,
    Provider,
    ProviderUpdate,
    RedirectAction,
    ReviewDecision,
)
from paygate.domain import PaymentStatus as S
from paygate.errors import ProviderError, ProviderTimeout
from paygate.lifecycle import LifecyclePolicy
from paygate.providers.paypro.transformers import PayoutData, update_from_query
from paygate.providers.platform.transformers import update_from_callback
from paygate.providers.platform.wire import Callback
from paygate.providers.smartglocal.transformers import Session, update_from_session
from paygate.transition import CONTRADICTED_AFTER_REVIEW, PAID_AFTER_EXPIRY
from tests.unit.test_lifecycle import QR, World

POLICY = LifecyclePolicy()
REDIRECT = RedirectAction(url="https://pay.example/r/1")
CLARIFY = ClarificationAction(fields=["card.pan"])


@pytest.fixture
def world() -> Iterator[World]:
    made = World()
    gateway_clock.use(made.clock)
    yield made
    gateway_clock.use(None)


def sg(session: str, payment: str, code: str | None = None) -> ProviderUpdate:
    entry: dict[str, Any] = {"id": "pm_1", "status": payment}
    if code:
        entry["error"] = {"code": code, "description": "d"}
    wire = Session.model_validate({"id": "ps_1", "status": session, "acquiring_payments": [entry]})
    return update_from_session(wire, "payment_finished")


def platform(status: str, code: str | None = None) -> ProviderUpdate:
    operation: dict[str, Any] = {"id": 1, "type": "sale", "status": status, "request_id": "r1"}
    if code:
        operation["code"] = code
    document = {"project_id": 1, "payment": {"id": "pay_x", "status": status}}
    return update_from_callback(Callback.model_validate({**document, "operation": operation}))


def paypro(code: str) -> ProviderUpdate:
    return update_from_query(PayoutData(status=code, platFormTradeNo="PP1"))


def one_change(world: World, payment: Payment, before: int) -> S:
    """The payment's only status change since `before` changes (exactly one event)."""
    changes = world.changes(payment)[before:]
    assert len(changes) == 1, changes
    return changes[0]


# -- 1. abandoned is expired, a decline is failed: per provider and waiting status ------------

WAITS: list[tuple[Provider, S, Any]] = [
    (Provider.SMARTGLOCAL, S.PENDING, None),
    (Provider.SMARTGLOCAL, S.REQUIRES_CONFIRMATION, None),
    (Provider.SMARTGLOCAL, S.REQUIRES_ACTION, REDIRECT),
    (Provider.ECOMMPAY, S.PENDING, None),
    (Provider.ECOMMPAY, S.REQUIRES_ACTION, REDIRECT),
    (Provider.ECOMMPAY, S.REQUIRES_ACTION, CLARIFY),
    (Provider.MONETIX, S.PENDING, None),
    (Provider.MONETIX, S.REQUIRES_ACTION, REDIRECT),
    (Provider.PAYPRO, S.PENDING, None),
    (Provider.PAYPRO, S.REQUIRES_ACTION, QR),
]
# The provider's own "ended unpaid" and "declined" answers, mapped by its real transformer.
ABANDONED = {
    Provider.SMARTGLOCAL: [sg("cancelled", "failed", "timeout"), sg("canceled", "pending")],
    Provider.ECOMMPAY: [platform("expired"), platform("cancelled"), platform("invoice cancelled")],
    Provider.MONETIX: [platform("expired"), platform("canceled")],
    Provider.PAYPRO: [],  # Paypro reports no abandonment: the gateway's window ends it
}
DECLINED = {
    Provider.SMARTGLOCAL: [sg("cancelled", "failed", "payment_declined"), sg("x", "failed", "?")],
    Provider.ECOMMPAY: [platform("decline", "20102"), platform("internal error")],
    Provider.MONETIX: [platform("decline", "3613"), platform("error")],
    Provider.PAYPRO: [paypro("00029"), paypro("undocumented-code")],
}


@pytest.mark.parametrize(("provider", "status", "action"), WAITS)
def test_a_waiting_payment_never_paid_expires_with_one_event(
    world: World, provider: Provider, status: S, action: Any
) -> None:
    """The customer never pays: at the window's end (one last query says nothing new) the
    payment is `expired`, once, and the cancel of Smart Glocal's session answered (mapped:
    session cancelled is abandonment) does not make it a decline."""
    world.provider.cancel_answer = sg("cancelled", "pending")
    payment = world.add(status, provider, provider_reference="ref-1", next_action=action)
    world.run_for(days=1)
    assert world.get(payment).status is S.EXPIRED
    assert world.changes(payment) == [status, S.EXPIRED]
    assert world.get(payment).failure.code == "expired"  # type: ignore[union-attr]


@pytest.mark.parametrize(("provider", "status", "action"), WAITS)
@pytest.mark.parametrize("how", ["webhook", "query"])
def test_the_providers_own_abandonment_is_expired_and_a_decline_failed(
    world: World, provider: Provider, status: S, action: Any, how: str
) -> None:
    endings = [(u, S.EXPIRED) for u in ABANDONED[provider]]
    if (provider, action) == (Provider.ECOMMPAY, CLARIFY):
        # only a specific code is a decline of a payment waiting for its clarification; the
        # general decline (or none) is the clarification's 30-minute timeout (ASSUMPTION)
        endings += [(platform("decline", "20102"), S.FAILED), (platform("error", "100"), S.FAILED)]
        endings += [(platform("decline", "20000"), S.EXPIRED), (platform("decline"), S.EXPIRED)]
        endings += [(platform("internal error"), S.EXPIRED)]
    else:
        endings += [(u, S.FAILED) for u in DECLINED[provider]]
    if action is not CLARIFY and provider in (Provider.ECOMMPAY, Provider.MONETIX):
        endings += [(platform("decline", "20000"), S.FAILED)]
    for number, (update, want) in enumerate(endings):
        payment = world.add(status, provider, provider_reference="r", next_action=action)
        if how == "webhook":
            world.ledger.ingest(provider, f"k{number}", {}, update, payment_id=payment.id)
        else:
            world.provider.answer[payment.id] = update
            world.run_for(minutes=2)
        assert world.get(payment).status is want, (update, world.get(payment).failure)
        assert one_change(world, payment, 1) is want


# -- 2. a provider contradicting a review is raised, once ---------------------------------------


def reviewed(world: World, kind: Kind, decision: ReviewDecision) -> Payment:
    payment = world.add(S.NEEDS_REVIEW, Provider.ECOMMPAY, kind=kind, provider_reference="r")
    return world.ledger.review(payment.id, kind, decision, "checked with the provider", "key-1")


@pytest.mark.parametrize("kind", [Kind.PAYMENT, Kind.PAYOUT])
@pytest.mark.parametrize(
    ("decision", "report"),
    [
        (ReviewDecision.ACCEPT, platform("decline", "20102")),
        (ReviewDecision.ACCEPT, platform("expired")),
        (ReviewDecision.REJECT, ProviderUpdate(status=S.SUCCEEDED, amount_received=100_000)),
        (ReviewDecision.REJECT, ProviderUpdate(status=S.PROCESSING)),
    ],
)
def test_a_provider_contradicting_the_review_reopens_it_once(
    world: World,
    kind: Kind,
    decision: ReviewDecision,
    report: ProviderUpdate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    metrics: list[str] = []
    monkeypatch.setattr(ledger_module.metrics, "add_metric", lambda name, **_: metrics.append(name))
    payment = reviewed(world, kind, decision)
    before = len(world.changes(payment))
    assert world.ledger.ingest(Provider.ECOMMPAY, "k1", {}, report, payment_id=payment.id)
    after = world.get(payment)
    assert one_change(world, payment, before) is S.NEEDS_REVIEW
    assert after.failure is not None and after.failure.code == CONTRADICTED_AFTER_REVIEW
    assert after.review is not None and after.review.decision is decision  # kept
    assert metrics == ["ReviewContradicted"]
    # the merchant decides again; the provider's next report changes nothing more
    again = world.ledger.review(payment.id, kind, decision, "confirmed twice", "key-1")
    world.ledger.apply(again, report, Cause.RECONCILIATION)
    assert world.get(payment).status is again.status and metrics == ["ReviewContradicted"]


@pytest.mark.parametrize("kind", [Kind.PAYMENT, Kind.PAYOUT])
@pytest.mark.parametrize(
    ("decision", "report"),
    [
        (ReviewDecision.ACCEPT, ProviderUpdate(status=S.SUCCEEDED, amount_received=100_000)),
        (ReviewDecision.ACCEPT, ProviderUpdate(status=S.PROCESSING)),
        (ReviewDecision.REJECT, platform("decline", "20102")),
    ],
)
def test_a_provider_agreeing_with_the_review_changes_nothing(
    world: World, kind: Kind, decision: ReviewDecision, report: ProviderUpdate
) -> None:
    payment = reviewed(world, kind, decision)
    world.ledger.ingest(Provider.ECOMMPAY, "k1", {}, report, payment_id=payment.id)
    assert world.get(payment) == payment


# -- 4. an acknowledged payout is processing ------------------------------------------------


def test_a_timed_out_platform_payout_is_processing_after_the_first_query(world: World) -> None:
    payout = world.add(S.CREATED, Provider.ECOMMPAY, kind=Kind.PAYOUT)

    def timed_out(_: Payment) -> ProviderUpdate:
        raise ProviderTimeout("no answer in time")

    with pytest.raises(ProviderTimeout):
        world.ledger.start(payout, timed_out, recorded=True)
    assert world.get(payout).status is S.PENDING
    assert world.get(payout).failure.code == "provider_timeout"  # type: ignore[union-attr]
    world.provider.answer[payout.id] = platform("processing")  # the status query
    world.run_for(minutes=1)
    assert len(world.provider.queries[payout.id]) == 1
    assert world.get(payout).status is S.PROCESSING
    assert world.get(payout).failure is None  # the provider's answer supersedes our timeout


def test_a_payout_webhook_in_a_waiting_class_is_processing_too(world: World) -> None:
    payout = world.add(S.PENDING, Provider.ECOMMPAY, kind=Kind.PAYOUT)
    world.ledger.ingest(
        Provider.ECOMMPAY, "k", {}, platform("awaiting approval"), payment_id=payout.id
    )
    assert world.get(payout).status is S.PROCESSING


# -- 5. a create that never reached the provider ends at its window -------------------------


def test_a_paypro_payin_that_never_reached_paypro_expires_at_its_window(world: World) -> None:
    payment = world.add(S.CREATED, Provider.PAYPRO)

    def unavailable(_: Payment) -> ProviderUpdate:
        raise ProviderError("HTTP 503 (3 attempts)", provider_code="503", definitive=False)

    with pytest.raises(ProviderError):
        world.ledger.start(payment, unavailable, recorded=True)
    # Paypro does not know the order: every query fails (its outer code is not 0000)
    world.provider.answer[payment.id] = ProviderError("code 1005", definitive=False)
    world.run_for(minutes=29)
    assert world.get(payment).status is S.PENDING
    world.run_for(minutes=2)
    assert world.get(payment).status is S.EXPIRED
    assert world.changes(payment) == [S.CREATED, S.PENDING, S.EXPIRED]
    last = world.provider.queries[payment.id][-1]
    assert last == payment.created_at + POLICY.waits.paypro_vietqr  # one last query first


def test_an_acknowledged_payin_whose_last_query_fails_is_not_expired(world: World) -> None:
    """The exception is narrow: a payin the provider acknowledged may be being paid."""
    payment = world.add(
        S.REQUIRES_ACTION, Provider.PAYPRO, provider_reference="PP1", next_action=QR
    )
    world.provider.answer[payment.id] = ProviderError("HTTP 502", definitive=False)
    world.run_for(hours=2)
    assert world.get(payment).status is S.REQUIRES_ACTION


# -- 6. no blind endings: the tail after an expiry -------------------------------------------

PAID = ProviderUpdate(status=S.SUCCEEDED, amount_received=100_000, currency="VND")


@pytest.mark.parametrize(
    ("provider", "action"),
    [
        (Provider.PAYPRO, QR),
        (Provider.SMARTGLOCAL, REDIRECT),
        (Provider.ECOMMPAY, REDIRECT),
        (Provider.MONETIX, REDIRECT),
    ],
)
def test_money_paid_after_expiry_with_every_callback_lost_is_found_within_the_tail(
    world: World, provider: Provider, action: Any
) -> None:
    world.provider.cancel_answer = sg("cancelled", "pending")
    payment = world.add(S.REQUIRES_ACTION, provider, provider_reference="r", next_action=action)
    world.run_for(minutes=61)  # the customer windows: 30 minutes, Smart Glocal's QR 60
    expired = world.get(payment)
    assert expired.status is S.EXPIRED
    tail = POLICY.tail.for_provider(provider)
    world.clock.advance(seconds=tail.total_seconds() * 0.9)  # paid late in the tail
    world.provider.answer[payment.id] = PAID  # every callback lost: only a query can tell
    world.run_for(seconds=tail.total_seconds() * 0.1 + 60)
    found = world.get(payment)
    assert found.status is S.NEEDS_REVIEW
    assert found.failure is not None and found.failure.code == PAID_AFTER_EXPIRY
    assert world.changes(payment)[-2:] == [S.EXPIRED, S.NEEDS_REVIEW]
    assert found.updated_at <= expired.updated_at + tail


@pytest.mark.parametrize("provider", list(Provider))
def test_the_tail_costs_its_stated_queries_and_then_stops(world: World, provider: Provider) -> None:
    """An abandoned payment: the tail's queries, spaced out, then none (docs/lifecycle.md
    states the count per provider)."""
    world.provider.cancel_answer = sg("cancelled", "pending")
    payment = world.add(S.REQUIRES_ACTION, provider, provider_reference="r", next_action=REDIRECT)
    world.run_for(hours=5)
    expired = world.get(payment)
    assert expired.status is S.EXPIRED
    queries = world.provider.queries[payment.id]
    before = len([at for at in queries if at <= expired.updated_at])
    world.run_for(days=30)
    tail = [at for at in queries[before:]]
    assert len(tail) == POLICY.tail_queries(provider)
    assert tail[-1] == expired.updated_at + POLICY.tail.for_provider(provider)
    assert world.get(payment).reconcile_at is None  # out of the schedule
    assert world.changes(payment)[-1] is S.EXPIRED


def test_tail_costs() -> None:
    """The figures docs/lifecycle.md quotes."""
    assert {p: POLICY.tail_queries(p) for p in Provider} == {
        Provider.SMARTGLOCAL: 6,
        Provider.MONETIX: 18,
        Provider.ECOMMPAY: 18,
        Provider.PAYPRO: 18,
    }


def test_a_provider_still_working_after_the_expiry_keeps_the_tail_then_needs_review(
    world: World,
) -> None:
    payment = world.add(
        S.REQUIRES_ACTION, Provider.ECOMMPAY, provider_reference="r", next_action=REDIRECT
    )
    world.run_for(hours=1)
    assert world.get(payment).status is S.EXPIRED
    world.provider.answer[payment.id] = platform("processing")  # working, money may move
    world.run_for(days=10)
    assert world.get(payment).status is S.EXPIRED
    world.run_for(days=2)
    assert world.get(payment).status is S.NEEDS_REVIEW
    assert world.get(payment).failure.code == PAID_AFTER_EXPIRY  # type: ignore[union-attr]


def test_a_provider_expiry_is_not_followed_by_a_tail(world: World) -> None:
    """The provider closed the order itself: it can no longer take the money."""
    payment = world.add(
        S.REQUIRES_ACTION, Provider.ECOMMPAY, provider_reference="r", next_action=REDIRECT
    )
    world.ledger.ingest(Provider.ECOMMPAY, "k", {}, platform("expired"), payment_id=payment.id)
    assert world.get(payment).status is S.EXPIRED and world.get(payment).reconcile_at is None
    assert world.repository.next_due() is None
