"""Every request amount has an upper bound (docs/lifecycle.md, rule 7), and a provider-reported
amount DynamoDB cannot hold is kept as text with the payment `needs_review`."""

from __future__ import annotations

from typing import Any

import pytest

from local.aws.provision import Provisioned

from .conftest import Api, body_of
from .test_paypro_webhook import deliver, new_payment, notify

JSON = {"content-type": "application/json"}
CUSTOMER = {"id": "c1", "email": "a@b.vn", "full_name": "An Nguyen", "document": "0123456789",
            "ip_address": "198.51.100.47", "first_name": "An", "last_name": "Nguyen"}  # fmt: skip
HUGE = 10**40 + 1  # 41 digits: past DynamoDB's 38


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/v1/paypro/payments", {"merchant_reference": "o"}),
        ("/v1/smartglocal/payments", {"merchant_reference": "o", "customer": CUSTOMER}),
        ("/v1/ecommpay/payments", {"method": "nganluong_wallet", "merchant_reference": "o",
                                   "customer": CUSTOMER, "return_url": "https://m.example"}),
        ("/v1/monetix/payments", {"method": "bank_transfer", "merchant_reference": "o",
                                  "customer": CUSTOMER, "bank_id": 1}),
        ("/v1/paypro/payouts", {"merchant_reference": "o", "account_name": "NGUYEN AN",
                                "bank_name": "ACB", "bank_number": "0123456789"}),
        ("/v1/ecommpay/payouts", {"method": "nganluong_wallet", "merchant_reference": "o",
                                  "customer": {"id": "c1", "ip_address": "198.51.100.47"},
                                  "account_number": "a@b.vn"}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("amount", [HUGE, 20_000_000_001])
def test_amounts_past_the_gateway_bound_are_422_naming_the_limit(
    api: Api, aws: Provisioned, route: str, body: dict[str, Any], amount: int
) -> None:
    error = api.answer(422, "POST", route, {**body, "amount": amount})["error"]
    assert error["field"] == "amount"
    assert "at most" in error["message"] and "VND" in error["message"]


def test_a_reported_amount_dynamodb_cannot_hold_is_kept_and_needs_review(
    api: Api, aws: Provisioned
) -> None:
    payment = new_payment(api)
    answer = deliver(api, notify("notify-success", payment, amount=str(HUGE)))
    assert answer["statusCode"] == 200
    final = body_of(api.call("GET", f"/v1/payments/{payment['id']}"))
    assert (final["status"], final["failure"]["code"]) == ("needs_review", "amount_unreadable")
    assert final["amount_received"] is None
