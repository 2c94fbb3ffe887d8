"""Signed Payment Page URLs (ecommpay's Vietnamese ATM guide, Purchase by using Payment Page;
the rule CONFIRMED by the official SDKs' vectors in tests/vectors): the signature is computed
over the unencoded parameter values, then everything is URL-encoded, the signature last."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote_plus, urlencode

from paygate.api_requests import PlatformPaymentRequest
from paygate.domain import Method, Payment
from paygate.providers.platform import signing

# `force_payment_method` per method (ATM and Nganluong: the ecommpay docs; bank transfer: the
# Monetix docs).
FORCED_METHOD = {
    Method.NAPAS_ATM: "vietnam-atm",
    Method.NGANLUONG_WALLET: "nganluong-wallet",
    Method.BANK_TRANSFER: "bank-transfer-vietnam",
}
LANGUAGE = "vi"


def page_params(
    payment: Payment,
    request: PlatformPaymentRequest,
    project_id: int,
    best_before: datetime | None = None,
) -> dict[str, str]:
    """The Payment Page parameters for `payment` (empty values left out). `best_before` (UTC)
    is when the page stops taking the payment: the end of the gateway's window for it."""
    customer = request.customer
    urls = request.return_urls
    params = {
        "project_id": str(project_id),
        "payment_id": payment.id,
        "payment_amount": str(payment.amount),
        "payment_currency": payment.currency,
        "payment_description": payment.description or "",
        "force_payment_method": FORCED_METHOD[payment.method],
        "language_code": LANGUAGE,
        "customer_id": customer.id if customer and customer.id else "",
        "customer_email": customer.email if customer and customer.email else "",
        "customer_phone": customer.phone if customer and customer.phone else "",
        "customer_first_name": customer.first_name if customer and customer.first_name else "",
        "customer_last_name": customer.last_name if customer and customer.last_name else "",
        "merchant_success_url": (urls.success if urls else None) or request.return_url or "",
        "merchant_fail_url": (urls.decline if urls else None) or request.return_url or "",
        "best_before": best_before.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        if best_before
        else "",
    }
    if payment.method is Method.NAPAS_ATM and request.bank_id is not None:
        # Preselect the bank: with force_payment_method the customer goes straight to it.
        options = {"vietnam_atm": {"banks_id": [request.bank_id]}}
        params["payment_methods_options"] = json.dumps(options, separators=(",", ":"))
    return {key: value for key, value in params.items() if value}


def signed_url(base_url: str, params: dict[str, str], secret: str) -> str:
    """`<base>?<params>&signature=<signature>`, signed over the raw values."""
    signature = signing.sign(params, secret)
    return f"{base_url}?{urlencode(params)}&signature={quote_plus(signature)}"
