"""Metadata is capped so that a payment item stays near one write unit: at most
`METADATA_MAX_BYTES` of UTF-8 keys and values (besides 20 keys of 40, values of 500
characters); more is a 422 naming `metadata`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bench.write_cost import item_size
from paygate.api_requests import METADATA_MAX_BYTES, PayproPaymentRequest, PayproPayoutRequest
from paygate.domain import Provider, payment_for
from paygate.repository import to_item
from paygate.table_items import payment_document

KB = 1024
keys = st.text(min_size=1, max_size=40)
values = st.text(max_size=500)


def utf8_size(metadata: dict[str, str]) -> int:
    return sum(len(key.encode()) + len(value.encode()) for key, value in metadata.items())


@given(st.dictionaries(keys, values, max_size=20))
def test_metadata_is_accepted_exactly_when_it_fits_the_cap(metadata: dict[str, str]) -> None:
    body = {"amount": 50_000, "merchant_reference": "o-1", "metadata": metadata}
    try:
        PayproPaymentRequest.model_validate(body)
    except ValidationError as refusal:
        assert utf8_size(metadata) > METADATA_MAX_BYTES
        (error,) = refusal.errors()
        assert error["loc"] == ("metadata",)
        assert "tối đa" in error["msg"] and "at most" in error["msg"]
    else:
        assert utf8_size(metadata) <= METADATA_MAX_BYTES


def test_payouts_have_the_same_cap() -> None:
    body = {
        "amount": 50_000, "merchant_reference": "o-1", "account_name": "NGUYEN VAN A",
        "bank_name": "Vietcombank", "bank_number": "0071000123456",
        "metadata": {"note": "ộ" * 342},  # 3 bytes a character: 1,030 bytes
    }  # fmt: skip
    with pytest.raises(ValidationError, match="metadata"):
        PayproPayoutRequest.model_validate(body)


def test_a_payment_at_the_cap_is_at_most_two_write_units_where_it_was_up_to_32() -> None:
    """The worst case the cap allows (docs/performance.md has the cost per KB)."""
    full = {f"k{i:02d}": "ộ" * ((METADATA_MAX_BYTES // 20 - 3) // 3) for i in range(20)}
    assert utf8_size(full) <= METADATA_MAX_BYTES
    request = PayproPaymentRequest(amount=50_000, merchant_reference="o-1", metadata=full)
    size = item_size(to_item(payment_document(payment_for(Provider.PAYPRO, request))))
    assert KB < size <= 2 * KB
