"""Pure ledger rules: how an update advances a payment, amount integrity, provider failures."""

from __future__ import annotations

from datetime import UTC, datetime

from paygate.domain import Method, Payment, PaymentStatus, Provider, ProviderUpdate, QrAction
from paygate.errors import ProviderError, ProviderTimeout
from paygate.ledger import provider_failure_update
from paygate.transition import advance

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def payment(status: PaymentStatus = PaymentStatus.REQUIRES_ACTION) -> Payment:
    return Payment(
        id="pay_1",
        provider=Provider.PAYPRO,
        method=Method.VIETQR,
        status=status,
        amount=50000,
        merchant_reference="o-1",
        next_action=QrAction(payment_link="https://x"),
        version=2,
    )


def test_success_advances_and_bumps_the_version() -> None:
    changed = advance(payment(), ProviderUpdate(status=PaymentStatus.SUCCEEDED), NOW)
    assert changed is not None
    assert (changed.status, changed.version, changed.updated_at) == ("succeeded", 3, NOW)
    assert changed.next_action is None


def test_success_with_another_amount_needs_review() -> None:
    update = ProviderUpdate(status=PaymentStatus.SUCCEEDED, amount_received=40000)
    changed = advance(payment(), update, NOW)
    assert changed is not None
    assert changed.status is PaymentStatus.NEEDS_REVIEW
    assert changed.amount_received == 40000
    assert changed.failure is not None and changed.failure.code == "amount_mismatch"


def test_success_with_another_currency_needs_review() -> None:
    update = ProviderUpdate(status=PaymentStatus.SUCCEEDED, currency="USD")
    changed = advance(payment(), update, NOW)
    assert changed is not None and changed.status is PaymentStatus.NEEDS_REVIEW


def test_backwards_and_terminal_updates_change_nothing() -> None:
    assert advance(payment(), ProviderUpdate(status=PaymentStatus.PENDING), NOW) is None
    done = payment(PaymentStatus.SUCCEEDED)
    assert advance(done, ProviderUpdate(status=PaymentStatus.PROCESSING), NOW) is None
    assert advance(done, ProviderUpdate(status=PaymentStatus.FAILED), NOW) is None


def test_provider_failures_map_by_certainty() -> None:
    timeout = provider_failure_update(ProviderTimeout("slow"))
    assert timeout.status is PaymentStatus.PENDING
    assert timeout.failure is not None and timeout.failure.code == "provider_timeout"
    refused = provider_failure_update(ProviderError("no", provider_code="8000"))
    assert refused.status is PaymentStatus.FAILED
    assert refused.failure is not None and refused.failure.provider_code == "8000"
    unsure = provider_failure_update(ProviderError("5xx", definitive=False))
    assert unsure.status is PaymentStatus.PENDING


def test_a_waiting_payment_takes_a_new_next_action_without_a_status_change() -> None:
    from paygate.domain import ClarificationAction, RedirectAction

    waiting = payment().model_copy(update={"next_action": ClarificationAction(fields=["card.pan"])})
    redirect = RedirectAction(url="https://bank.example/pay")
    update = ProviderUpdate(status=PaymentStatus.REQUIRES_ACTION, next_action=redirect)
    changed = advance(waiting, update, NOW)
    assert changed is not None
    assert (changed.status, changed.next_action, changed.version) == (
        "requires_action",
        redirect,
        3,
    )
    assert advance(changed, update, NOW) is None  # the same action again changes nothing
    no_action = ProviderUpdate(status=PaymentStatus.REQUIRES_ACTION)
    assert advance(waiting, no_action, NOW) is None
    pending = payment(PaymentStatus.PENDING)
    assert advance(pending.model_copy(update={"next_action": None}), no_action, NOW) is not None
