from __future__ import annotations

import pytest

from paygate.errors import LimitError
from paygate.masking import ERASED, erase
from paygate.money import Method, Operation, check_amount, parse_vnd


def test_vietqr_minimum_is_50000() -> None:
    check_amount(Method.VIETQR, Operation.SALE, 50_000)
    with pytest.raises(LimitError, match="at least 50000 VND") as caught:
        check_amount(Method.VIETQR, Operation.SALE, 49_999)
    assert caught.value.field == "amount"


def test_atm_payout_bounds() -> None:
    with pytest.raises(LimitError, match="at most 100000000"):
        check_amount(Method.NAPAS_ATM, Operation.PAYOUT, 100_000_001)


@pytest.mark.parametrize(
    ("text", "value"), [("50000", 50000), ("50000.00", 50000), (7, 7), ("1.5", None), ("x", None)]
)
def test_parse_vnd(text: str, value: int | None) -> None:
    assert parse_vnd(text) == value


def test_erase_masks_nested_sensitive_keys() -> None:
    masked = erase(
        {"sign": "abc", "card": {"PAN": "4111111111111111", "year": 2030}, "x": [{"cvv": 1}]}
    )
    assert masked == {"sign": ERASED, "card": {"PAN": ERASED, "year": 2030}, "x": [{"cvv": ERASED}]}


def test_mask_pan_keeps_first_six_and_last_four() -> None:
    from paygate.masking import mask_pan

    assert mask_pan("4242424242424242") == "424242******4242"
    assert mask_pan("9704 1234 5678 9018 123") == "970412*********8123"
    assert mask_pan("123456789012") == "************"  # too short to show any digit


def test_paypro_account_names_without_diacritics() -> None:
    from paygate.providers.paypro.payouts import without_diacritics

    assert without_diacritics("Nguyễn Văn Đức") == "Nguyen Van Duc"
    assert without_diacritics("Trần  Thị-Ánh") == "Tran Thi Anh"
