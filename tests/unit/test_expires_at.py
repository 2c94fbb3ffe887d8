"""A payment's document says when its wait ends (`expires_at`), from the lifecycle's own wait
windows (`paygate.lifecycle.WaitWindows`, the reconciler's): per provider, method and status,
null once final or while money moves, never on a payout; and the reconciler, on a manual
clock, expires an unpaid payment within the schedule's minute after that time, never before
(hypothesis over the windows and the moment the wait began)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paygate import clock as gateway_clock
from paygate.api_models import PaymentResponse, PayoutResponse
from paygate.domain import (
    ClarificationAction,
    Kind,
    Method,
    Payment,
    PaymentStatus,
    Provider,
    QrAction,
    RedirectAction,
)
from paygate.lifecycle import LifecyclePolicy, WaitWindows
from paygate.settings import WindowSettings
from paygate.status_message import StatusMessage
from tests.unit.test_endings import WAITS
from tests.unit.test_lifecycle import World

AT = datetime(2026, 12, 7, 9, 41, 17, tzinfo=UTC)
# Distinct windows, none the default: a document reading the wrong one is caught.
WINDOWS = WaitWindows(
    smartglocal_action=timedelta(minutes=61),
    smartglocal_confirmation=timedelta(minutes=241),
    platform_clarification=timedelta(minutes=17),
    ecommpay_customer=timedelta(minutes=23),
    monetix_customer=timedelta(minutes=29),
    paypro_vietqr=timedelta(minutes=37),
)
METHODS = [
    (Provider.SMARTGLOCAL, Method.EWALLET),
    (Provider.ECOMMPAY, Method.NAPAS_ATM),
    (Provider.ECOMMPAY, Method.NGANLUONG_WALLET),
    (Provider.MONETIX, Method.BANK_TRANSFER),
    (Provider.PAYPRO, Method.VIETQR),
]
WAITING = [
    PaymentStatus.CREATED,
    PaymentStatus.PENDING,
    PaymentStatus.REQUIRES_CONFIRMATION,
    PaymentStatus.REQUIRES_ACTION,
]
NO_WINDOW = [status for status in PaymentStatus if status not in WAITING]


def expected_minutes(provider: Provider, status: PaymentStatus, clarifying: bool) -> int:
    """The window each wait has (docs/lifecycle.md, "Windows"), written out."""
    if provider is Provider.SMARTGLOCAL:
        return 61 if status is PaymentStatus.REQUIRES_ACTION else 241
    if provider is Provider.PAYPRO:
        return 37
    if clarifying:
        return 17
    return {Provider.ECOMMPAY: 23, Provider.MONETIX: 29}[provider]


def payment(provider: Provider, method: Method, status: PaymentStatus, **fields: Any) -> Payment:
    return Payment(
        id="pay_1", provider=provider, method=method, status=status, amount=100_000,
        merchant_reference="order-1", created_at=AT - timedelta(hours=1), updated_at=AT,
        **fields,
    )  # fmt: skip


@pytest.mark.parametrize("status", WAITING)
@pytest.mark.parametrize(("provider", "method"), METHODS)
def test_a_waiting_payment_expires_at_its_methods_window_from_its_last_change(
    provider: Provider, method: Method, status: PaymentStatus
) -> None:
    action = QrAction(payment_link="https://pay.example/qr/1")
    document = PaymentResponse.of(payment(provider, method, status, next_action=action), WINDOWS)
    minutes = expected_minutes(provider, status, clarifying=False)
    assert document.expires_at == AT + timedelta(minutes=minutes)
    wire = document.model_dump(mode="json")["expires_at"]
    assert wire == (AT + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("provider", [Provider.ECOMMPAY, Provider.MONETIX])
def test_a_clarification_has_the_platforms_clarification_window(provider: Provider) -> None:
    method = Method.NAPAS_ATM if provider is Provider.ECOMMPAY else Method.BANK_TRANSFER
    asking = ClarificationAction(fields=["card.pan"])
    waiting = payment(provider, method, PaymentStatus.REQUIRES_ACTION, next_action=asking)
    assert PaymentResponse.of(waiting, WINDOWS).expires_at == AT + timedelta(minutes=17)
    redirect = waiting.model_copy(update={"next_action": RedirectAction(url="https://p.example")})
    assert PaymentResponse.of(redirect, WINDOWS).expires_at == AT + timedelta(
        minutes=expected_minutes(provider, PaymentStatus.REQUIRES_ACTION, clarifying=False)
    )


@pytest.mark.parametrize("status", NO_WINDOW)
@pytest.mark.parametrize(("provider", "method"), METHODS)
def test_a_final_payment_or_money_in_motion_has_no_expiry(
    provider: Provider, method: Method, status: PaymentStatus
) -> None:
    document = PaymentResponse.of(payment(provider, method, status), WINDOWS)
    assert document.expires_at is None
    assert document.model_dump(mode="json")["expires_at"] is None


def test_a_payout_document_has_no_expires_at_in_any_status() -> None:
    assert "expires_at" not in PayoutResponse.model_fields
    for status in PaymentStatus:
        payout = payment(Provider.PAYPRO, Method.BANK_TRANSFER, status, kind=Kind.PAYOUT)
        assert "expires_at" not in PayoutResponse.of(payout, WINDOWS).model_dump()


def test_the_status_push_carries_the_same_document() -> None:
    waiting = payment(Provider.PAYPRO, Method.VIETQR, PaymentStatus.REQUIRES_ACTION)
    message = StatusMessage.of(waiting, LifecyclePolicy(waits=WINDOWS))
    assert message.payment == PaymentResponse.of(waiting, WINDOWS)
    assert message.payment.expires_at == AT + timedelta(minutes=37)


def test_the_windows_come_from_the_window_settings() -> None:
    variables = {
        "WINDOW_SMARTGLOCAL_ACTION_MINUTES": "61",
        "WINDOW_SMARTGLOCAL_CONFIRMATION_MINUTES": "241",
        "WINDOW_PLATFORM_CLARIFICATION_MINUTES": "17",
        "WINDOW_ECOMMPAY_CUSTOMER_MINUTES": "23",
        "WINDOW_MONETIX_CUSTOMER_MINUTES": "29",
        "WINDOW_PAYPRO_VIETQR_MINUTES": "37",
    }
    assert WaitWindows.of(WindowSettings.model_validate(variables)) == WINDOWS


MINUTES = st.integers(min_value=1, max_value=300).map(lambda value: timedelta(minutes=value))


@settings(max_examples=40, deadline=None)
@given(
    case=st.sampled_from(WAITS),
    windows=st.builds(WaitWindows, **{window.name: MINUTES for window in fields(WaitWindows)}),
    began=st.integers(min_value=0, max_value=3_599_999_999).map(
        lambda micros: timedelta(microseconds=micros)
    ),
)
def test_the_reconciler_expires_an_unpaid_payment_at_its_documents_expires_at(
    case: tuple[Provider, PaymentStatus, Any], windows: WaitWindows, began: timedelta
) -> None:
    """Never before `expires_at`, and at the schedule's first run from then (each minute)."""
    provider, status, action = case
    world = World()
    gateway_clock.use(world.clock)
    try:
        world.reconciler.policy = LifecyclePolicy(waits=windows)
        world.clock.now += began
        added = world.add(status, provider, provider_reference="ref-1", next_action=action)
        expires_at = PaymentResponse.of(added, windows).expires_at
        assert expires_at is not None
        just_before = expires_at - world.clock() - timedelta(microseconds=1)
        world.run_for(microseconds=just_before // timedelta(microseconds=1))
        assert world.get(added).status is status  # still waiting just before
        world.run_for(minutes=1)
        ended = world.get(added)
        assert ended.status is PaymentStatus.EXPIRED
        assert expires_at <= ended.updated_at < expires_at + timedelta(minutes=1)
    finally:
        gateway_clock.use(None)
