"""Rules checked before any ecommpay/Monetix call: limits, card use and the customer fields
each method, flow and ATM channel requires (each a 422 naming the field); the docs' bank
tables as data."""

from __future__ import annotations

from typing import Any

import pytest

from paygate.api_requests import (
    EcommpayPaymentRequest,
    MonetixPaymentRequest,
    PlatformPaymentRequest,
)
from paygate.domain import Method, Operation
from paygate.errors import LimitError, ValidationFailed
from paygate.providers.platform import banks, rules

FULL_CUSTOMER = {
    "id": "c-1",
    "email": "buyer@example.com",
    "phone": "84438336996",
    "ip_address": "198.51.100.7",
    "first_name": "An",
    "last_name": "Nguyen",
}
CARD = {"pan": "4321432154325432", "card_holder": "NGUYEN AN", "year": 2030, "month": 11}


def request(method: str, **fields: Any) -> PlatformPaymentRequest:
    body = {"method": method, "amount": 100_000, "merchant_reference": "o-1", **fields}
    body.setdefault("customer", FULL_CUSTOMER)
    model = MonetixPaymentRequest if method == "bank_transfer" else EcommpayPaymentRequest
    return model.model_validate(body)


def refusal(req: PlatformPaymentRequest, channel: int = 1) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        rules.check_request(req, channel)  # type: ignore[arg-type]
    return caught.value


REQUIRED = [
    ("napas_atm", "gate", 1, ["customer.id", "customer.email", "customer.phone",
                              "customer.ip_address", "bank_id"]),
    ("napas_atm", "gate", 2, ["customer.email", "customer.ip_address", "bank_id"]),
    ("napas_atm", "payment_page", 1, ["customer.id", "customer.email", "customer.phone"]),
    ("napas_atm", "payment_page", 2, []),
    ("nganluong_wallet", "gate", 1, ["customer.id", "customer.email", "customer.ip_address",
                                     "return_urls.success", "return_urls.decline"]),
    ("nganluong_wallet", "payment_page", 1, ["customer.id", "customer.email", "customer.phone"]),
    ("bank_transfer", "gate", 1, ["customer.id", "customer.first_name", "customer.last_name",
                                  "customer.email", "customer.ip_address"]),
    ("bank_transfer", "payment_page", 1, ["customer.id", "customer.first_name",
                                          "customer.last_name", "customer.email"]),
]  # fmt: skip


@pytest.mark.parametrize(("method", "flow", "channel", "fields"), REQUIRED)
def test_required_fields_per_method_flow_and_channel(
    method: str, flow: str, channel: int, fields: list[str]
) -> None:
    assert list(rules.required_fields(Method(method), rules.Flow(flow), channel)) == fields  # type: ignore[arg-type]
    extra: dict[str, Any] = {"flow": flow}
    if method == "napas_atm" and flow == "gate":
        extra["bank_id"] = 135
    if method == "nganluong_wallet":
        extra["return_urls"] = {
            "success": "https://m.example/ok",
            "decline": "https://m.example/ko",
        }
    rules.check_request(request(method, **extra), channel)  # type: ignore[arg-type]
    for field in fields:
        if field.startswith("customer."):
            customer = {k: v for k, v in FULL_CUSTOMER.items() if k != field.split(".")[1]}
            broken = request(method, customer=customer, **extra)
        elif field == "bank_id":
            broken = request(method, **{k: v for k, v in extra.items() if k != "bank_id"})
        else:
            kept = "decline" if field.endswith("success") else "success"
            broken = request(method, **{**extra, "return_urls": {kept: "https://m.example/ok"}})
        assert refusal(broken, channel).field == field


def test_one_return_url_stands_in_for_success_and_decline() -> None:
    rules.check_request(request("nganluong_wallet", return_url="https://m.example/back"), 1)


@pytest.mark.parametrize(
    ("amount", "bank_id", "channel", "message"),
    [
        (1_999, 135, 1, "at least 2000"),
        (19_999, 133, 1, "at least 20000 VND for napas_atm with Vietcombank"),
        (20_000_000_001, 135, 2, "at most 20000000000"),
        (20_000_000_001, 135, 1, "MAX_AMOUNT_VND"),  # no channel 1 maximum: the gateway's own
        (10**40, 135, 1, "at most 20000000000 VND (the gateway's MAX_AMOUNT_VND)"),
    ],
)
def test_atm_limits(amount: int, bank_id: int, channel: int, message: str) -> None:
    error = refusal(request("napas_atm", amount=amount, bank_id=bank_id), channel)
    assert isinstance(error, LimitError) and error.field == "amount" and message in error.message


@pytest.mark.parametrize(("amount", "bank_id", "channel"), [(2_000, 135, 1), (20_000, 133, 1),
                                                            (20_000_000_000, 135, 2),
                                                            (20_000_000_000, 135, 1)])  # fmt: skip
def test_atm_amounts_inside_the_limits(amount: int, bank_id: int, channel: int) -> None:
    rules.check_request(request("napas_atm", amount=amount, bank_id=bank_id), channel)  # type: ignore[arg-type]


def test_bank_ids_are_not_refused_by_the_docs_tables() -> None:
    """The tables are informational: which bank ids the provider takes is its live list's to
    say (tests/unit/test_live_bank_lists.py), not these rules'."""
    rules.check_request(request("napas_atm", bank_id=706), 2)  # channel 1's table only
    rules.check_request(request("napas_atm", bank_id=999_999), 1)
    rules.check_request(request("bank_transfer", bank_id=205), 1)  # the Monetix docs' example
    assert (
        refusal(request("nganluong_wallet", bank_id=135, return_url="https://x.example"), 1).field
        == "bank_id"
    )


@pytest.mark.parametrize(
    ("method", "flow", "channel"),
    [("napas_atm", "gate", 1), ("napas_atm", "payment_page", 2), ("bank_transfer", "gate", 1)],
)
def test_card_only_on_atm_channel_2_gate(method: str, flow: str, channel: int) -> None:
    req = request(method, bank_id=135 if method == "napas_atm" else None, card=CARD, flow=flow)
    assert refusal(req, channel).field == "card"


def test_card_accepted_on_channel_2_and_hidden_from_repr() -> None:
    req = request("napas_atm", bank_id=135, card=CARD)
    rules.check_request(req, 2)
    assert CARD["pan"] not in repr(req)


def test_docs_tables_sizes() -> None:
    """A row with a single "+" does not say which column: unknown (null), listed for both."""
    assert len(banks.banks_for(Method.NAPAS_ATM, Operation.SALE, 1)) == 43
    assert len(banks.banks_for(Method.NAPAS_ATM, Operation.PAYOUT, 1)) == 43
    assert len(banks.banks_for(Method.NAPAS_ATM, Operation.SALE, 2)) == 41
    assert len(banks.banks_for(Method.NAPAS_ATM, Operation.PAYOUT, 2)) == 41
    assert sum(b.payout is True for b in banks.atm_banks(1)) == 31
    assert sum(b.payout is True for b in banks.atm_banks(2)) == 25
    unknown = [b for b in banks.atm_banks(2) if b.purchase is None]
    assert len(unknown) == 16 and all(b.payout is None for b in unknown)
    donga = next(b for b in banks.atm_banks(2) if b.id == 130)  # the docs' ATM payout example
    assert (donga.purchase, donga.payout) == (None, None)
    assert len(banks.bank_transfer_banks()) == 12
    assert len(banks.payout_regions()) == 64
    assert any(
        region.id == 290 and region.name == "Ho Chi Minh" for region in banks.payout_regions()
    )
