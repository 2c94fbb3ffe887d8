"""A Paypro bank payout's method is `bank_transfer` (money goes to the named bank account),
never `vietqr` (Paypro's payin: the customer scans a QR)."""

from __future__ import annotations

from local.aws.provision import Provisioned

from .conftest import Api
from .test_payouts import PAYPRO_PAYOUT


def test_a_paypro_payout_is_a_bank_transfer(api: Api, aws: Provisioned) -> None:
    payout = api.answer(201, "POST", "/v1/paypro/payouts", PAYPRO_PAYOUT)
    assert (payout["provider"], payout["method"]) == ("paypro", "bank_transfer")
    assert api.read(f"/v1/payouts/{payout['id']}")["method"] == "bank_transfer"
    named = {**PAYPRO_PAYOUT, "merchant_reference": "payout-pp-2", "method": "bank_transfer"}
    assert api.answer(201, "POST", "/v1/paypro/payouts", named)["method"] == "bank_transfer"


def test_a_vietqr_payout_is_refused_naming_the_method(api: Api, aws: Provisioned) -> None:
    body = {**PAYPRO_PAYOUT, "method": "vietqr"}
    error = api.answer(422, "POST", "/v1/paypro/payouts", body)["error"]
    assert error["field"] == "method"
