from __future__ import annotations

import pytest

from paygate.domain import Method, Operation
from paygate.errors import LimitError
from paygate.masking import ERASED, erase
from paygate.money import check_amount, parse_vnd


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


def test_log_lines_are_masked_like_stored_webhooks() -> None:
    import io
    import json
    import logging

    from paygate.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)  # the Logger's own JSON formatter
    logger.addHandler(handler)
    try:
        logger.info(
            "masked",
            extra={"card": {"pan": "4242424242424242", "cvv": "123"}, "signature": "abc=",
                   "document": "012345678901", "payment_id": "pay_1"},
        )  # fmt: skip
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["card"] == {"pan": "*****", "cvv": "*****"}
    assert (line["signature"], line["document"], line["payment_id"]) == ("*****", "*****", "pay_1")


def test_numbers_dynamodb_cannot_hold_are_stored_as_text() -> None:
    from decimal import Decimal

    from paygate.table_items import storable as _storable

    assert _storable({"a": [1.5, 10**40, 1e200, 7, True]}) == {
        "a": [Decimal("1.5"), str(10**40), "1e+200", 7, True]
    }


def test_empty_keys_are_renamed_before_storing() -> None:
    from paygate.table_items import EMPTY_KEY
    from paygate.table_items import storable as _storable

    assert _storable({"": {"": 1}, "a": [{"": "x"}]}) == {
        EMPTY_KEY: {EMPTY_KEY: 1},
        "a": [{EMPTY_KEY: "x"}],
    }


def test_the_gateway_wide_maximum_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from paygate.domain import Method, Operation
    from paygate.errors import LimitError
    from paygate.money import check_amount

    check_amount(Method.EWALLET, Operation.SALE, 20_000_000_000)
    with pytest.raises(LimitError, match="at most 20000000000 VND"):
        check_amount(Method.EWALLET, Operation.SALE, 20_000_000_001)
    monkeypatch.setenv("MAX_AMOUNT_VND", "1000000")
    with pytest.raises(LimitError, match="at most 1000000 VND") as refused:
        check_amount(Method.VIETQR, Operation.PAYOUT, 1_000_001)
    assert refused.value.field == "amount"
    check_amount(Method.VIETQR, Operation.PAYOUT, 1_000_000)
