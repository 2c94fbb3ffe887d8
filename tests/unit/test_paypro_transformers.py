"""Paypro status mapping (exhaustive over the documented codes plus unknown ones) and
notify/payin translation."""

from __future__ import annotations

import pytest

from paygate.domain import Kind, PaymentStatus, QrAction
from paygate.providers.paypro.transformers import (
    Notify,
    PayinData,
    PayoutData,
    map_status,
    update_from_notify,
    update_from_payin,
    update_from_payout,
    update_from_query,
)

S = PaymentStatus
# (code, payin status, payout status): every documented code plus an unknown one.
CASES = [
    ("0000", S.SUCCEEDED, S.SUCCEEDED),
    ("0015", S.PENDING, S.PROCESSING),  # payin: order open, nobody paid; payout: on its way
    ("0001", S.NEEDS_REVIEW, S.NEEDS_REVIEW),  # partial payment: money moved, not as asked
    ("00029", S.FAILED, S.FAILED),
    ("00032", S.PENDING, S.PENDING),  # unknown error: no news
    ("0100019", S.FAILED, S.FAILED),
    ("5000", S.PENDING, S.PENDING),  # system errors: no news, settled by query
    ("8000", S.PENDING, S.PENDING),
    ("never-seen", S.FAILED, S.FAILED),
]


@pytest.mark.parametrize(("code", "payin", "payout"), CASES)
def test_map_status(code: str, payin: PaymentStatus, payout: PaymentStatus) -> None:
    assert map_status(code) is payin
    assert map_status(code, Kind.PAYOUT) is payout


def test_in_progress_query_keeps_a_waiting_payin_and_its_link() -> None:
    update = update_from_query(PayoutData(status="0015", tradeNo="pay_1"))
    assert update.status is S.PENDING and update.failure is None


def test_payout_answer_without_a_status_is_accepted_not_failed() -> None:
    assert update_from_payout(PayoutData()).status is S.PROCESSING
    assert update_from_payout(PayoutData(status="5000")).status is S.PROCESSING
    assert update_from_payout(PayoutData(status="00029")).status is S.FAILED


def test_payin_answer_with_a_system_code_is_pending() -> None:
    assert update_from_payin(PayinData(status="8000")).status is S.PENDING
    assert update_from_payin(PayinData()).status is S.PENDING


@pytest.mark.parametrize("amount", ["1" * 41, "12.5", "abc", "1e400"])
def test_success_with_an_unreadable_amount_needs_review(amount: str) -> None:
    """A query may say anything; a notify's amount is digits (its model refuses the rest), and
    digits past what DynamoDB holds are unreadable too."""
    reported = [update_from_query(PayoutData(status="0000", amount=amount))]
    if amount.isdigit():
        reported.append(update_from_notify(_notify(amount=amount)))
    for update in reported:
        assert update.status is S.NEEDS_REVIEW
        assert update.failure is not None and update.failure.code == "amount_unreadable"


def _notify(**overrides: str) -> Notify:
    fields = {
        "status": "0000",
        "message": "success",
        "tradeNo": "pay_202410170824213f9a1c0b7e",
        "platFormTradeNo": "p1",
        "amount": "50000",
        "timestamp": "1729153481590",
    }
    return Notify.model_validate({**fields, "sign": "0" * 32, **overrides})


def test_success_notify_carries_amount_and_reference() -> None:
    update = update_from_notify(_notify())
    assert update.status is PaymentStatus.SUCCEEDED
    assert update.amount_received == 50000
    assert update.provider_reference == "p1"
    assert update.failure is None


def test_decline_notify_carries_the_provider_code() -> None:
    update = update_from_notify(_notify(status="00029", message="Transaction rejected"))
    assert update.status is PaymentStatus.FAILED
    assert update.failure is not None
    assert update.failure.provider_code == "00029"
    assert update.failure.provider_message == "Transaction rejected"


def test_decimal_amount_text_of_a_query_is_understood() -> None:
    assert update_from_query(PayoutData(status="0000", amount="50000.00")).amount_received == 50000


def test_dedupe_key_is_stable_and_distinguishes_facts() -> None:
    assert _notify().dedupe_key() == _notify(timestamp="1729153999999").dedupe_key()
    assert _notify().dedupe_key() != _notify(status="0015").dedupe_key()
    assert _notify().dedupe_key() != _notify(amount="40000").dedupe_key()


def test_payin_created_becomes_requires_action_with_the_link() -> None:
    data = PayinData(platFormTradeNo="p1", status="0015", paymentLink="https://pay/x")
    update = update_from_payin(data)
    assert update.status is PaymentStatus.REQUIRES_ACTION
    assert update.next_action == QrAction(payment_link="https://pay/x")


def test_payin_without_link_waits_for_the_notify() -> None:
    assert update_from_payin(PayinData(status="0000")).status is PaymentStatus.PENDING


def test_payin_with_failure_status_fails() -> None:
    update = update_from_payin(PayinData(status="00029", desc="rejected"))
    assert update.status is PaymentStatus.FAILED
    assert update.failure is not None and update.failure.provider_code == "00029"


def test_balance_reads_both_spellings_of_the_available_amount() -> None:
    from paygate.providers.paypro.transformers import Balance

    assert Balance.model_validate({"availableAmount": "10"}).available == "10"
    assert Balance.model_validate({"availablAmount": 20}).available == "20"
    assert Balance.model_validate({"availableAmount": "1", "availablAmount": "2"}).available == "1"
    assert Balance.model_validate({}).available is None
