"""Paypro status mapping (exhaustive over the documented codes plus unknown ones) and
notify/payin translation."""

from __future__ import annotations

import pytest

from paygate.models import QrAction
from paygate.providers.paypro.transformers import (
    Notify,
    PayinData,
    map_status,
    update_from_notify,
    update_from_payin,
)
from paygate.status import PaymentStatus

CASES = [
    ("0000", PaymentStatus.SUCCEEDED),
    ("0015", PaymentStatus.PROCESSING),
    ("0001", PaymentStatus.FAILED),
    ("00029", PaymentStatus.FAILED),
    ("00032", PaymentStatus.FAILED),
    ("0100019", PaymentStatus.FAILED),
    ("5000", PaymentStatus.FAILED),
    ("8000", PaymentStatus.FAILED),
    ("never-seen", PaymentStatus.FAILED),
]


@pytest.mark.parametrize(("code", "status"), CASES)
def test_map_status(code: str, status: PaymentStatus) -> None:
    assert map_status(code) is status


def _notify(**overrides: str) -> Notify:
    fields = {"status": "0000", "tradeNo": "pay_1", "platFormTradeNo": "p1", "amount": "50000"}
    return Notify.model_validate({**fields, "sign": "x", **overrides})


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


def test_decimal_amount_text_is_understood() -> None:
    assert update_from_notify(_notify(amount="50000.00")).amount_received == 50000


def test_dedupe_key_is_stable_and_distinguishes_facts() -> None:
    assert _notify().dedupe_key() == _notify(timestamp="999").dedupe_key()
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
