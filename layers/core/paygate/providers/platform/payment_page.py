"""Signed Payment Page URLs (ecommpay's Vietnamese ATM guide, Purchase by using Payment Page;
the rule CONFIRMED by the official SDKs' vectors in tests/vectors): the signature is computed
over the unencoded parameter values, then everything is URL-encoded, the signature last.

The customer's browser sees that URL, so it holds a valid project signature over text that
includes values the customer typed or the merchant built. The platform's scheme joins
`path:value` entries with `;` and escapes nothing in a value, so no value signed into a page
may contain `;` or `:` (or a control character): none can then be re-read as further entries
or paths of a callback (`check_page_values`, docs/security.md). Return URLs need their `:`;
they must be well-formed https URLs (http only for a loopback host) without `;`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from urllib.parse import quote_plus, urlencode, urlsplit

from paygate.api_requests import PlatformPaymentRequest
from paygate.domain import Method, Payment
from paygate.errors import ValidationFailed
from paygate.providers.platform import signing

# `force_payment_method` per method (ATM and Nganluong: the ecommpay docs; bank transfer: the
# Monetix docs).
FORCED_METHOD = {
    Method.NAPAS_ATM: "vietnam-atm",
    Method.NGANLUONG_WALLET: "nganluong-wallet",
    Method.BANK_TRANSFER: "bank-transfer-vietnam",
}
LANGUAGE = "vi"


# The scheme's separators and every control character (C0, DEL, C1) and the Unicode line and
# paragraph separators: none may stand in a value signed into a page.
_UNSAFE = re.compile(r"[;:\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A URL's characters (RFC 3986 unreserved, reserved and `%`) less `;`; nothing else.
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,=%]+")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# The request fields `page_params` signs into the page: customer values and the description.
PAGE_TEXT_FIELDS = (
    "customer.id",
    "customer.email",
    "customer.phone",
    "customer.first_name",
    "customer.last_name",
    "description",
)
PAGE_URL_FIELDS = ("return_url", "return_urls.success", "return_urls.decline")


def check_page_values(request: PlatformPaymentRequest) -> None:
    """A 422 naming the first field whose value could split the signed page text into other
    entries (`;`, `:`, control characters) or, for a return URL, that is not a well-formed
    https URL without `;`."""
    for path in PAGE_TEXT_FIELDS:
        value = _field(request, path)
        if value and _UNSAFE.search(value):
            raise ValidationFailed(
                f"{path} may not contain ';', ':' or control characters on the Payment Page "
                "flow (they would change what the page's signature covers)",
                field=path,
            )
    for path in PAGE_URL_FIELDS:
        value = _field(request, path)
        if value and not _safe_url(value):
            raise ValidationFailed(
                f"{path} must be an https URL of URL characters without ';' (http only for "
                "127.0.0.1 or localhost); percent-encode anything else",
                field=path,
            )


def _field(request: PlatformPaymentRequest, path: str) -> str | None:
    value: object = request
    for part in path.split("."):
        value = getattr(value, part, None)
    return value if isinstance(value, str) else None


def _safe_url(url: str) -> bool:
    if ";" in url or not _URL_CHARACTERS.fullmatch(url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme == "http":
        return host in _LOOPBACK
    return parts.scheme == "https" and bool(host)


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
