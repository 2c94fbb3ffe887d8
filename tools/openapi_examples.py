"""The request and answer examples of the OpenAPI document: what Swagger UI's "Try it out"
sends for each operation with a body, and the answer that route gives (its own provider and
method). Each request succeeds against `make run` with the status it is listed with;
tests/e2e/test_openapi_examples.py posts every one to the local runtime and checks that, and
tests/integration/test_openapi.py validates every example against the route's models.

Answers were taken from the local runtime (ids, references and times are those of one run)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CUSTOMER = {
    "id": "cust-1001",
    "email": "nguyen.van.an@example.com",
    "phone": "84912345678",
    "ip_address": "198.51.100.47",
    "first_name": "An",
    "last_name": "Nguyen",
}
CREATED_AT = "2026-12-07T08:30:00.000000Z"


def _answer(
    payment_id: str,
    provider: str,
    method: str,
    status: str,
    amount: int,
    reference: str,
    **fields: Any,
) -> dict[str, Any]:
    """A payment or payout as the API answers it."""
    return {
        "id": payment_id,
        "provider": provider,
        "method": method,
        "status": status,
        "amount": amount,
        "amount_received": None,
        "currency": "VND",
        "merchant_reference": reference,
        "provider_reference": None,
        "next_action": None,
        "failure": None,
        "review": None,
        "version": 1,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        **fields,
    }


@dataclass(frozen=True)
class Example:
    """One request of an operation, the status it answers with and that answer."""

    name: str
    summary: str
    request: dict[str, Any]
    status: int
    answer: dict[str, Any]


ATM_CUSTOMER = {"id": "payee-1", "ip_address": "198.51.100.47"}
INSTRUCTIONS = {
    "vi": [
        "Hãy đảm bảo rằng bạn chuyển đến Tài khoản người thụ hưởng",
        "Một lần chuyển khoản được hoàn tất, số dư của bạn sẽ tự động được ghi có.",
    ],
    "en": [
        "Please ensure you transfer to Beneficiary Account.",
        "Once transfer completed, your balance will be automatically credited.",
    ],
}
PAYOUT_TO_CARD = {
    "bank_id": 136, "region_id": 290, "card": "424242******4242", "card_holder": "NGUYEN VAN AN",
    "account_number": None, "account_name": None, "bank_name": None,
}  # fmt: skip
PAYOUT_TO_WALLET = {
    "bank_id": None, "region_id": None, "card": None, "card_holder": None,
    "account_number": "payee@example.com", "account_name": None, "bank_name": None,
}  # fmt: skip
PAYOUT_TO_ACCOUNT = {
    "bank_id": None, "region_id": None, "card": None, "card_holder": None,
    "account_number": "0123456789", "account_name": "NGUYEN VAN AN", "bank_name": "ACB",
}  # fmt: skip
REVIEWED = {
    "reviewed_by": "3f1c9a52-7b1e-4d0a-9c56-2e8f4b7d1a60",  # the operator (user pool sub)
    "reviewed_by_email": "an.nguyen@merchant.example",
    "reviewed_at": CREATED_AT,
}
CARD_FIELDS = ["card.card_holder", "card.month", "card.pan", "card.year"]

# (method, path) → its examples, the first the one "Try it out" starts with.
EXAMPLES: dict[tuple[str, str], tuple[Example, ...]] = {
    ("POST", "/v1/paypro/payments"): (
        Example(
            "vietqr",
            "VietQR: 50,000 VND (Paypro's minimum)",
            {"method": "vietqr", "amount": 50_000, "currency": "VND",
             "merchant_reference": "order-1001", "customer": {"email": CUSTOMER["email"]},
             "description": "Đơn hàng 1001"},
            201,
            _answer("pay_2026120718003143ba95de3d", "paypro", "vietqr", "requires_action",
                    50_000, "order-1001", provider_reference="fyexitxf4fp8lwl3", version=2,
                    next_action={"type": "qr", "qr_payload": None,
                                 "payment_link": "http://127.0.0.1:3101/pay/fyexitxf4fp8lwl3"}),
        ),
    ),
    ("POST", "/v1/smartglocal/payments"): (
        Example(
            "ewallet",
            "E-wallet, confirmed by the gateway when Smart Glocal is ready",
            {"method": "ewallet", "amount": 100_000, "currency": "VND",
             "merchant_reference": "order-1002", "confirmation": "auto",
             "customer": {"email": CUSTOMER["email"], "full_name": "Nguyen Van An",
                          "document": "012345678901"}},
            201,
            _answer("pay_20261207180031ac8d335c9f", "smartglocal", "ewallet", "pending",
                    100_000, "order-1002", provider_reference="ps_5666", version=2),
        ),
    ),
    ("POST", "/v1/ecommpay/payments"): (
        Example(
            "napas_atm",
            "NAPAS ATM card, bank chosen here (136: a channel-1 bank)",
            {"method": "napas_atm", "amount": 120_000, "currency": "VND",
             "merchant_reference": "order-1003", "customer": CUSTOMER, "bank_id": 136,
             "return_url": "https://merchant.example/orders/1003"},
            201,
            _answer("pay_2026120718003121dd81eb8d", "ecommpay", "napas_atm", "pending",
                    120_000, "order-1003", provider_reference="85e2d3dbb673b92021194355ad59",
                    version=2),
        ),
        Example(
            "nganluong_wallet",
            "Nganluong wallet",
            {"method": "nganluong_wallet", "amount": 120_000, "currency": "VND",
             "merchant_reference": "order-1004", "customer": CUSTOMER,
             "return_url": "https://merchant.example/orders/1004"},
            201,
            _answer("pay_2026120718003135a12c35ac", "ecommpay", "nganluong_wallet", "pending",
                    120_000, "order-1004", provider_reference="98a7410daa854eef9e2215265ca7",
                    version=2),
        ),
    ),
    ("POST", "/v1/monetix/payments"): (
        Example(
            "bank_transfer",
            "Bank transfer: the answer (or a later GET) carries the transfer details",
            {"method": "bank_transfer", "amount": 300_000, "currency": "VND",
             "merchant_reference": "order-1005", "customer": CUSTOMER},
            201,
            _answer("pay_20261207180031e9c6598317", "monetix", "bank_transfer",
                    "requires_action", 300_000, "order-1005",
                    provider_reference="840d9d6f1f27cfe40c952a399aa1", version=3,
                    next_action={"type": "bank_transfer_instructions", "bank": "Military Bank",
                                 "bank_code": "MBBANK", "bank_abbr": "MB", "branch": None,
                                 "swift_code": None, "account_no": "1234123412341",
                                 "account_name": "John Doe", "amount": 300_000,
                                 "transfer_code": "B3320886436",
                                 "instructions": INSTRUCTIONS}),
        ),
    ),
    ("POST", "/v1/ecommpay/payouts"): (
        Example(
            "napas_atm",
            "To a NAPAS ATM card (bank and region from GET /v1/ecommpay/banks?operation=payout)",
            {"method": "napas_atm", "amount": 150_000, "currency": "VND",
             "merchant_reference": "payout-1001", "customer": ATM_CUSTOMER, "bank_id": 136,
             "region_id": 290, "card": {"pan": "4242424242424242",
                                        "card_holder": "NGUYEN VAN AN", "year": 2030,
                                        "month": 12}},
            201,
            _answer("po_2026120718003147113e9573", "ecommpay", "napas_atm", "processing",
                    150_000, "payout-1001", provider_reference="0b8c3f1c8cf541c90e621ea858c9",
                    version=2, destination=PAYOUT_TO_CARD),
        ),
        Example(
            "nganluong_wallet",
            "To a Nganluong wallet",
            {"method": "nganluong_wallet", "amount": 100_000, "currency": "VND",
             "merchant_reference": "payout-1002",
             "customer": {"id": "payee-2", "ip_address": "198.51.100.47"},
             "account_number": "payee@example.com"},
            201,
            _answer("po_202612071800314e01adb2fe", "ecommpay", "nganluong_wallet", "processing",
                    100_000, "payout-1002", provider_reference="4f60b9b41bb8355c5beba1312cb3",
                    version=2, destination=PAYOUT_TO_WALLET),
        ),
    ),
    ("POST", "/v1/paypro/payouts"): (
        Example(
            "bank_transfer",
            "To a bank account (bank_name from GET /v1/paypro/banks)",
            {"method": "bank_transfer", "amount": 60_000, "currency": "VND",
             "merchant_reference": "payout-1003", "account_name": "NGUYEN VAN AN",
             "bank_name": "ACB", "bank_number": "0123456789"},
            201,
            _answer("po_20261207180031f01da577be", "paypro", "bank_transfer", "processing",
                    60_000, "payout-1003", provider_reference="pmwfxsgqfno306w3", version=2,
                    destination=PAYOUT_TO_ACCOUNT),
        ),
    ),
    ("POST", "/v1/payments/{id}/review"): (
        Example(
            "accept",
            "Accept a VietQR payment paid with 40,000 instead of 50,000 VND",
            {"decision": "accept", "note": "40,000 VND received; confirmed with Paypro"},
            200,
            _answer("pay_2026120718003110c11caa06", "paypro", "vietqr", "succeeded", 50_000,
                    "order-1006", amount_received=40_000, provider_reference="dlktio9v5ue40hhd",
                    version=4, review={"decision": "accept",
                                       "note": "40,000 VND received; confirmed with Paypro",
                                       **REVIEWED}),
        ),
    ),
    ("POST", "/v1/payouts/{id}/review"): (
        Example(
            "accept",
            "Accept a wallet payout ecommpay reported as 90,000 of 100,000 VND",
            {"decision": "accept", "note": "90,000 VND paid out; confirmed with ecommpay"},
            200,
            _answer("po_202612071800314e01adb2fe", "ecommpay", "nganluong_wallet", "succeeded",
                    100_000, "payout-1002", amount_received=90_000,
                    provider_reference="4f60b9b41bb8355c5beba1312cb3", version=4,
                    destination=PAYOUT_TO_WALLET,
                    review={"decision": "accept",
                            "note": "90,000 VND paid out; confirmed with ecommpay", **REVIEWED}),
        ),
    ),
    ("POST", "/v1/payments/{id}/clarification"): (
        Example(
            "card",
            "The card an ATM payment's bank asked for (next_action.fields)",
            {"fields": {"card.pan": "4321432154325432", "card.card_holder": "NGUYEN VAN AN",
                        "card.year": 2030, "card.month": 11}},
            200,
            _answer("pay_2026120718003135ee16fc1c", "ecommpay", "napas_atm", "requires_action",
                    120_000, "order-1007", provider_reference="676a05732c4a9a700e20133927c0",
                    version=3, next_action={"type": "clarification", "fields": CARD_FIELDS,
                                            "message": None}),
        ),
    ),
}  # fmt: skip
